#!/bin/sh
# install-config.sh EXAMPLE TARGET — meson's install script: copies the installed example
# configuration to TARGET (under $DESTDIR) unless a configuration is already there, so installs
# and upgrades never overwrite a node's own settings. Mode 0600: it may hold the API secret.
set -eu
example=${DESTDIR:-}$1
target=${DESTDIR:-}$2
if [ -e "$target" ]; then
    echo "berth: keeping the existing $2"
    exit 0
fi
mkdir -p "$(dirname "$target")"
install -m 0600 "$example" "$target"
echo "berth: installed $2 from the example"
