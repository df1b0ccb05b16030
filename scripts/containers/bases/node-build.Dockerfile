# The build stage's base: the local Node runtime plus npm (pinned, unpacked from
# its npm tarball) and this machine's CA bundle for npm, so that `npm ci` in a
# build reaches the registry this machine reaches. Never a runtime base.
ARG NODE_IMAGE
FROM ${NODE_IMAGE}
ADD npm.tgz /usr/local/lib/node_modules/
COPY npmrc /usr/local/etc/npmrc
COPY ca-bundle.crt /usr/local/etc/npm-ca-bundle.crt
RUN mv /usr/local/lib/node_modules/package /usr/local/lib/node_modules/npm \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && npm --version
