#!/bin/sh
# The page of the berth hello image (like nginxdemos/hello): who served this request, from
# which addresses. Runs under busybox httpd as CGI for "/".
addresses=$(ip -o addr show 2>/dev/null | awk '{ split($4, a, "/"); print a[1] }')
cat <<PAGE
Content-Type: text/html

<!DOCTYPE html>
<html><head><title>Hello from berth</title></head>
<body style="font-family: sans-serif">
<h1>Hello from berth</h1>
<p>Server name: <b id="hostname">$(hostname)</b></p>
<p>Server address(es):</p>
<ul id="addresses">
$(for a in $addresses; do echo "<li>$a</li>"; done)
</ul>
<p>Request: $REQUEST_METHOD $REQUEST_URI from $REMOTE_ADDR</p>
<p>Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')</p>
</body></html>
PAGE
