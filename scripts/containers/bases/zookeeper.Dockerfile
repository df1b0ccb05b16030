# ZooKeeper from Debian's packages (the jar and its Java dependencies, a
# headless JRE; not the `zookeeper` package, which pulls a full JRE), run by
# an entrypoint that takes the official image's variables (ZOO_MY_ID,
# ZOO_SERVERS, ZOO_4LW_COMMANDS_WHITELIST, …), so docker-compose.yml works
# with either image. Runs as the `zookeeper` user.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
# The JRE's postinst links its man pages, whose folder the base leaves out.
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless libzookeeper-java \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --home-dir /data --no-create-home zookeeper \
 && mkdir -p /conf /data /datalog \
 && chown zookeeper:zookeeper /conf /data /datalog
COPY zookeeper-entrypoint.sh /usr/local/bin/zookeeper-entrypoint.sh
USER zookeeper
VOLUME ["/data", "/datalog"]
EXPOSE 2181 2888 3888
ENTRYPOINT ["/usr/local/bin/zookeeper-entrypoint.sh"]
