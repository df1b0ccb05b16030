/**
 * Finds what is needed to run a ZooKeeper server JVM: a `java` executable and
 * a classpath holding `org.apache.zookeeper.server.quorum.QuorumPeerMain`.
 *
 * Java: `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `/usr/bin/java`, else
 * `java` on the PATH.
 *
 * ZooKeeper: when `ZOOKEEPER_HOME` is set it must hold a release — the Apache
 * tarball layout (`lib/*.jar` plus top-level `*.jar`, and `conf/` for its
 * logging configuration) or a Debian-style folder holding `zookeeper.jar`.
 * Otherwise the Debian package `zookeeper` (`/usr/share/java/zookeeper.jar`,
 * whose manifest Class-Path names its dependencies in /usr/share/java).
 * Nothing found: a `ZooKeeperNotInstalledError` that says what to install.
 */
import { readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const QUORUM_PEER_MAIN = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';

const DEBIAN_JAVA_DIR = '/usr/share/java';
const DEBIAN_ZOOKEEPER_JAR = join(DEBIAN_JAVA_DIR, 'zookeeper.jar');

export type ZooKeeperLayout = 'debian' | 'tarball';

export interface ZooKeeperInstallation {
  /** Absolute path of the java executable. */
  javaPath: string;
  layout: ZooKeeperLayout;
  /** Where it was found: the ZOOKEEPER_HOME folder or /usr/share/java. */
  home: string;
  /** Classpath entries (jars and folders) in order. */
  classpath: string[];
  /** JVM options that send the server's log to stdout/stderr at INFO level. */
  loggingJvmOptions: string[];
  mainClass: typeof QUORUM_PEER_MAIN;
}

export class ZooKeeperNotInstalledError extends Error {
  constructor(detail: string) {
    super(
      `${detail}. Install ZooKeeper with \`apt-get install -y zookeeper\` (Debian/Ubuntu; provides ` +
        `${DEBIAN_ZOOKEEPER_JAR}), or set ZOOKEEPER_HOME to an unpacked Apache ZooKeeper release ` +
        `(a folder with lib/*.jar).`,
    );
    this.name = 'ZooKeeperNotInstalledError';
  }
}

export class JavaNotFoundError extends Error {
  constructor(detail: string) {
    super(
      `${detail}. Install a Java runtime (17 or later) with \`apt-get install -y openjdk-17-jre-headless\`, ` +
        `or set JAVA_HOME to a JDK/JRE folder (with bin/java).`,
    );
    this.name = 'JavaNotFoundError';
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function jarsIn(dir: string): string[] {
  if (!isDirectory(dir)) {
    return [];
  }
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jar'))
    .sort()
    .map((name) => join(dir, name));
}

/** The server jar itself (zookeeper.jar, zookeeper-3.8.4.jar), not jute, recipes or contrib jars. */
function isServerJar(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return /^zookeeper(-\d[\w.]*)?\.jar$/.test(name);
}

export function findJava(env: NodeJS.ProcessEnv = process.env): string {
  const javaHome = env.JAVA_HOME;
  if (javaHome !== undefined && javaHome !== '') {
    const candidate = join(javaHome, 'bin', 'java');
    if (!isFile(candidate)) {
      throw new JavaNotFoundError(`JAVA_HOME is ${javaHome} but ${candidate} does not exist`);
    }
    return candidate;
  }
  if (isFile('/usr/bin/java')) {
    return '/usr/bin/java';
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && isFile(join(dir, 'java'))) {
      return join(dir, 'java');
    }
  }
  throw new JavaNotFoundError(
    'No java executable: JAVA_HOME is not set, /usr/bin/java is missing, none on PATH',
  );
}

/** slf4j-simple prints to stderr; Debian's zookeeper.jar names slf4j-api but no binding (so: no log at all). */
function debianLogging(): { classpath: string[]; options: string[] } {
  const binding = join(DEBIAN_JAVA_DIR, 'slf4j-simple.jar');
  if (!isFile(binding)) {
    return { classpath: [], options: [] };
  }
  return {
    classpath: [binding],
    options: [
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=info',
      '-Dorg.slf4j.simpleLogger.showDateTime=true',
      '-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS',
      '-Dorg.slf4j.simpleLogger.showShortLogName=true',
      // Every readiness probe would otherwise log a line.
      '-Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.server.NIOServerCnxn=warn',
    ],
  };
}

function debianInstallation(
  javaPath: string,
  serverJar: string,
  home: string,
): ZooKeeperInstallation {
  const logging = debianLogging();
  return {
    javaPath,
    layout: 'debian',
    home,
    classpath: [serverJar, ...logging.classpath],
    loggingJvmOptions: logging.options,
    mainClass: QUORUM_PEER_MAIN,
  };
}

function fromZooKeeperHome(javaPath: string, home: string): ZooKeeperInstallation {
  if (!isDirectory(home)) {
    throw new ZooKeeperNotInstalledError(`ZOOKEEPER_HOME is ${home}, which is not a folder`);
  }
  const jars = [...jarsIn(join(home, 'lib')), ...jarsIn(home)];
  if (jars.some(isServerJar) && isDirectory(join(home, 'lib'))) {
    const conf = join(home, 'conf');
    // conf/ carries the release's logback.xml / log4j.properties (console at INFO).
    const classpath = isDirectory(conf) ? [conf, ...jars] : jars;
    return {
      javaPath,
      layout: 'tarball',
      home,
      classpath,
      loggingJvmOptions: [
        '-Dzookeeper.root.logger=INFO,CONSOLE',
        '-Dzookeeper.console.threshold=INFO',
      ],
      mainClass: QUORUM_PEER_MAIN,
    };
  }
  // A Debian-style folder: zookeeper.jar with a manifest Class-Path.
  const candidates = [join(home, 'zookeeper.jar'), join(home, 'share', 'java', 'zookeeper.jar')];
  const direct = candidates.find(isFile);
  if (direct !== undefined) {
    return debianInstallation(javaPath, direct, home);
  }
  // ZOOKEEPER_HOME=/usr/share/zookeeper (Debian's scripts folder): the jars live in /usr/share/java.
  if (isFile(join(home, 'bin', 'zkEnv.sh')) && isFile(DEBIAN_ZOOKEEPER_JAR)) {
    return debianInstallation(javaPath, DEBIAN_ZOOKEEPER_JAR, home);
  }
  throw new ZooKeeperNotInstalledError(
    `ZOOKEEPER_HOME is ${home} but it holds no ZooKeeper server jar (looked for lib/zookeeper-*.jar, ` +
      `zookeeper-*.jar, zookeeper.jar)`,
  );
}

/** Locates java and ZooKeeper; throws an error naming what to install when one is missing. */
export function findZooKeeperInstallation(
  env: NodeJS.ProcessEnv = process.env,
): ZooKeeperInstallation {
  const zookeeperHome = env.ZOOKEEPER_HOME;
  const hasHome = zookeeperHome !== undefined && zookeeperHome !== '';
  if (!hasHome && !isFile(DEBIAN_ZOOKEEPER_JAR)) {
    throw new ZooKeeperNotInstalledError(
      `ZooKeeper not found: ZOOKEEPER_HOME is not set and ${DEBIAN_ZOOKEEPER_JAR} is missing`,
    );
  }
  const javaPath = findJava(env);
  return hasHome
    ? fromZooKeeperHome(javaPath, zookeeperHome)
    : debianInstallation(javaPath, DEBIAN_ZOOKEEPER_JAR, DEBIAN_JAVA_DIR);
}

let cached: ZooKeeperInstallation | undefined;

/** `findZooKeeperInstallation()` for this process's environment, looked up once. */
export function zooKeeperInstallation(): ZooKeeperInstallation {
  cached ??= findZooKeeperInstallation();
  return cached;
}

/** True when a ZooKeeper server can be started here (for `describe.skip`-style guards). */
export function isZooKeeperInstalled(env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    findZooKeeperInstallation(env);
    return true;
  } catch {
    return false;
  }
}
