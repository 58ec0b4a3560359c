#!/usr/bin/env bash
# examples/hello/build.sh [OUTPUT.tar] — builds, offline, the OCI image archive of a tiny web
# server (busybox httpd serving a CGI page with the task's hostname and addresses, like
# nginxdemos/hello) from Debian's busybox-static package alone. `berth load -i OUTPUT.tar` loads
# it as berth.local/hello:latest. The same inputs give the same bytes (fixed owners, times,
# order), so its digest is stable for a given busybox.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/hello.tar}
name=${BERTH_HELLO_NAME:-berth.local/hello:latest}

# The static busybox: from the installed busybox-static package, or a .deb of it in apt's cache.
work=$(mktemp -d /tmp/berth-hello-XXXXXX)
trap 'rm -rf "$work"' EXIT
busybox=
if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
  busybox=$(dpkg -L busybox-static | grep -m1 -E '/bin/busybox$')
else
  deb=$(ls /var/cache/apt/archives/busybox-static_*.deb 2>/dev/null | tail -1 || true)
  if [ -n "$deb" ]; then
    dpkg-deb -x "$deb" "$work/deb"
    busybox="$work/deb/bin/busybox"
  fi
fi
if [ -z "$busybox" ] || [ ! -x "$busybox" ]; then
  echo "build.sh: needs Debian's busybox-static (apt-get install busybox-static)" >&2
  exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
  echo "build.sh: $busybox is not statically linked" >&2
  exit 1
fi

case $(dpkg --print-architecture) in
  amd64) arch=amd64 variant= ;;
  arm64) arch=arm64 variant=v8 ;;
  armhf) arch=arm variant=v7 ;;
  i386) arch=386 variant= ;;
  *) arch=$(dpkg --print-architecture) variant= ;;
esac

# The root filesystem: busybox and its applets, the CGI page, /tmp, /etc/passwd for httpd.
root=$work/rootfs
mkdir -p "$root/bin" "$root/www/cgi-bin" "$root/etc" "$root/tmp" "$root/proc" "$root/sys" \
  "$root/dev"
chmod 1777 "$root/tmp"
install -m 0755 "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
install -m 0755 "$here/index.cgi" "$root/www/cgi-bin/index.cgi"
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
reproducible_tar() { tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
  --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime "$@"; }

layout=$work/layout
mkdir -p "$layout/blobs/sha256"
reproducible_tar -C "$root" -cf "$work/layer.tar" .
diff_id=$(sha "$work/layer.tar")
gzip -9 -n -c "$work/layer.tar" > "$work/layer.tar.gz"
layer=$(sha "$work/layer.tar.gz")
mv "$work/layer.tar.gz" "$layout/blobs/sha256/$layer"

platform="\"architecture\":\"$arch\",\"os\":\"linux\"${variant:+,\"variant\":\"$variant\"}"
cat > "$work/config.json" <<JSON
{$platform,"created":"1970-01-01T00:00:00Z","config":{"Entrypoint":["/bin/httpd","-f","-p","80","-h","/www"],"Env":["PATH=/bin"],"ExposedPorts":{"80/tcp":{}},"WorkingDir":"/www"},"rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"examples/hello/build.sh: busybox-static, busybox httpd and a CGI page"}]}
JSON
config=$(sha "$work/config.json")
cp "$work/config.json" "$layout/blobs/sha256/$config"

cat > "$work/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$config","size":$(size "$work/config.json")},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:$layer","size":$(size "$layout/blobs/sha256/$layer")}]}
JSON
manifest=$(sha "$work/manifest.json")
cp "$work/manifest.json" "$layout/blobs/sha256/$manifest"

printf '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
cat > "$layout/index.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$manifest","size":$(size "$work/manifest.json"),"annotations":{"io.containerd.image.name":"$name","org.opencontainers.image.ref.name":"$name"}}]}
JSON
reproducible_tar -C "$layout" -cf "$work/out.tar" oci-layout index.json blobs
mv "$work/out.tar" "$out"
echo "built $out: $name sha256:$manifest"
