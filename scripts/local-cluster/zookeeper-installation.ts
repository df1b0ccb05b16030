/**
 * Java and ZooKeeper, found the way the test harness finds them (Debian
 * package paths, or ZOOKEEPER_HOME). When ZooKeeper is missing and apt-get
 * can be used (as root, or through `sudo -n`), the Debian package `zookeeper`
 * is installed — it brings a Java runtime too; otherwise the error says what
 * to install.
 */
import { spawnSync } from 'node:child_process';
import {
  findZooKeeperInstallation,
  ZooKeeperNotInstalledError,
  type ZooKeeperInstallation,
} from '../../libs/zk/src/testing/zookeeper-installation';

/** What the lookup touches, replaceable in tests. */
export interface InstallationSystem {
  env: NodeJS.ProcessEnv;
  find: () => ZooKeeperInstallation;
  /** The argv prefix that runs apt-get as root, or undefined when that needs a password or there is no apt-get. */
  aptGet: () => string[] | undefined;
  /** Runs a command with the terminal attached; true on exit code 0. */
  run: (argv: readonly string[]) => boolean;
  say: (text: string) => void;
}

function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export function hostSystem(say: (text: string) => void): InstallationSystem {
  return {
    env: process.env,
    find: () => findZooKeeperInstallation(),
    aptGet: () => {
      if (!commandExists('apt-get')) return undefined;
      if (process.getuid?.() === 0) return ['apt-get'];
      const sudo = commandExists('sudo') && spawnSync('sudo', ['-n', 'true']).status === 0;
      return sudo ? ['sudo', '-n', '--preserve-env=DEBIAN_FRONTEND', 'apt-get'] : undefined;
    },
    run: ([command, ...args]) =>
      spawnSync(command, args, {
        stdio: 'inherit',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      }).status === 0,
    say,
  };
}

export function ensureZooKeeperInstallation(system: InstallationSystem): ZooKeeperInstallation {
  try {
    return system.find();
  } catch (error: unknown) {
    if (!(error instanceof ZooKeeperNotInstalledError) || system.env.ZOOKEEPER_HOME?.trim()) {
      throw error;
    }
    const aptGet = system.aptGet();
    if (aptGet === undefined) {
      throw new Error(
        `${error.message} npm start installs it by itself where apt-get can run as root ` +
          `(or through sudo without a password); or set ZK_CONNECT to use a running ZooKeeper.`,
      );
    }
    // A fresh machine may still be running its first apt job: wait for the lock.
    const apt = (...args: string[]): boolean => {
      const argv = [...aptGet, '-o', 'DPkg::Lock::Timeout=300', ...args];
      system.say(`$ ${argv.join(' ')}`);
      return system.run(argv);
    };
    system.say('ZooKeeper is not installed: installing the Debian package zookeeper');
    const installed =
      apt('install', '-y', 'zookeeper') || (apt('update') && apt('install', '-y', 'zookeeper'));
    if (!installed) {
      throw new Error('apt-get could not install zookeeper (its output is above)');
    }
    return system.find();
  }
}
