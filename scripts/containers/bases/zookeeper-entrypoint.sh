#!/bin/bash
# Runs one ZooKeeper server from the variables of the official `zookeeper`
# image (those docker-compose.yml uses, with the same defaults): writes
# /conf/zoo.cfg when missing, and myid into the data folder when missing, then
# execs the server (PID 1: `docker stop` reaches it). Logs go to stderr.
#
#   ZOO_MY_ID                      this server's id (1)
#   ZOO_SERVERS                    "server.1=zk1:2888:3888;2181 server.2=…" (one standalone server)
#   ZOO_TICK_TIME, ZOO_INIT_LIMIT, ZOO_SYNC_LIMIT, ZOO_MAX_CLIENT_CNXNS, ZOO_STANDALONE_ENABLED,
#   ZOO_ADMINSERVER_ENABLED, ZOO_AUTOPURGE_PURGEINTERVAL, ZOO_AUTOPURGE_SNAPRETAINCOUNT,
#   ZOO_4LW_COMMANDS_WHITELIST     the zoo.cfg settings of the same names
#   ZOO_CFG_EXTRA                  more "key=value" settings, space-separated
#   JVMFLAGS                       JVM options (heap size)
set -euo pipefail

config=/conf/zoo.cfg
if [[ ! -f $config ]]; then
  {
    echo "dataDir=/data"
    echo "dataLogDir=/datalog"
    echo "tickTime=${ZOO_TICK_TIME:-2000}"
    echo "initLimit=${ZOO_INIT_LIMIT:-5}"
    echo "syncLimit=${ZOO_SYNC_LIMIT:-2}"
    echo "autopurge.snapRetainCount=${ZOO_AUTOPURGE_SNAPRETAINCOUNT:-3}"
    echo "autopurge.purgeInterval=${ZOO_AUTOPURGE_PURGEINTERVAL:-0}"
    echo "maxClientCnxns=${ZOO_MAX_CLIENT_CNXNS:-60}"
    echo "standaloneEnabled=${ZOO_STANDALONE_ENABLED:-true}"
    echo "admin.enableServer=${ZOO_ADMINSERVER_ENABLED:-true}"
    for server in ${ZOO_SERVERS:-server.1=localhost:2888:3888;2181}; do echo "$server"; done
    if [[ -n ${ZOO_4LW_COMMANDS_WHITELIST:-} ]]; then
      echo "4lw.commands.whitelist=$ZOO_4LW_COMMANDS_WHITELIST"
    fi
    for entry in ${ZOO_CFG_EXTRA:-}; do echo "$entry"; done
  } >"$config"
fi
if [[ ! -f /data/myid ]]; then
  echo "${ZOO_MY_ID:-1}" >/data/myid
fi

# Debian's zookeeper.jar names its dependency jars in its manifest but no
# logging backend: slf4j-simple (stderr). A health probe every few seconds
# would otherwise log a line each time.
# shellcheck disable=SC2086 # JVMFLAGS is a list of options
exec java ${JVMFLAGS:-} \
  -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
  -Dorg.slf4j.simpleLogger.showDateTime=true \
  "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSXXX" \
  -Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.server.NIOServerCnxn=warn \
  org.apache.zookeeper.server.quorum.QuorumPeerMain "$config"
