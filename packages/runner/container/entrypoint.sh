#!/bin/sh
# Build events leave the build-server on fd 3 (the `pipe` transport). Inside a container the
# runner reads the container's stdout instead, so fd 3 is pointed at stdout and the
# build-server's own diagnostics (its stdout) go to stderr. Fixed text: nothing user-supplied.
exec /usr/local/bin/node /opt/build-server/main.mjs 3>&1 1>&2
