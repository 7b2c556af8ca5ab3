#!/usr/bin/env bash
# scripts/make-deb: the package built from the test build, inspected with
# dpkg-deb -I / -c / -e (nothing is installed on this machine):
#   control: package, version = sipwalld --version, architecture, Depends
#   naming the libraries' packages (libevent, libssl3, …) and adduser;
#   conffiles: the config and the logrotate file; postinst creates the
#   system user sipwall (no home, no login) and gives the config its group;
#   contents: the same files and modes as make install, all root:root,
#   nothing group- or world-writable, no secret.
set -uo pipefail
SW_SRC=${SW_SRC:-.}
. "$SW_SRC/tests/peers/lib.sh"
peers_init makedeb 176
command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb not installed"

deb=$("$SW_SRC/scripts/make-deb" "$SW_BUILD" "$WORK" 2>"$WORK/make-deb.log") ||
    die "make-deb failed: $(tail -n 5 "$WORK/make-deb.log")"
check "make-deb printed an existing .deb ($deb)" [ -f "$deb" ]
dpkg-deb -I "$deb" >"$WORK/info.txt" 2>&1 || die "dpkg-deb -I failed"
dpkg-deb -c "$deb" >"$WORK/contents.txt" 2>&1 || die "dpkg-deb -c failed"
dpkg-deb -e "$deb" "$WORK/control" || die "dpkg-deb -e failed"

# ---- control ---------------------------------------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
v=$("$SIPWALLD" --version | awk '{print $2}')
check "Package: sipwall" [ "$(field Package)" = sipwall ]
check "Version: $(field Version) = sipwalld --version ($v)" [ "$(field Version)" = "$v" ]
check "Architecture: $(field Architecture)" [ "$(field Architecture)" = "$(dpkg --print-architecture)" ]
deps=$(field Depends)
for p in adduser libc6 libevent-2.1-7 libssl3 libsqlite3-0 libjansson4 libhyperscan5 libpcap0.8; do
    check "Depends names $p" sh -c "echo '$deps' | tr ',' '\n' | sed 's/ //g' | grep -qx '$p'"
done
check "conffiles: the config and the logrotate file" \
    sh -c "grep -qx /etc/sipwall/sipwalld.conf '$WORK/control/conffiles' && grep -qx /etc/logrotate.d/sipwall '$WORK/control/conffiles'"
P=$WORK/control/postinst
check "postinst is executable" [ -x "$P" ]
check "postinst parses (sh -n)" sh -n "$P"
check "postinst creates a system user sipwall without home or login" \
    sh -c "grep -q 'adduser --system' '$P' && grep -q 'no-create-home' '$P' && grep -q 'disabled-login' '$P' && grep -q nologin '$P'"
check "postinst gives the config to group sipwall, 0640" \
    sh -c "grep -q 'chgrp sipwall /etc/sipwall /etc/sipwall/sipwalld.conf' '$P' && grep -q 'chmod 0640 /etc/sipwall/sipwalld.conf' '$P'"
check "postinst enables or starts nothing" sh -c "! grep -qE 'systemctl (enable|start)' '$P'"

# ---- contents ----------------------------------------------------------------------------------------
has() { # MODE OWNER PATH
    awk -v m="$1" -v o="$2" -v p="./${3#/}" '$1 == m && $2 == o && $6 == p {f = 1} END {exit !f}' "$WORK/contents.txt"
}
check "/usr/bin/sipwalld -rwxr-xr-x root/root" has -rwxr-xr-x root/root /usr/bin/sipwalld
check "/usr/bin/sipwall -rwxr-xr-x root/root" has -rwxr-xr-x root/root /usr/bin/sipwall
check "/etc/sipwall/ drwxr-x---" has drwxr-x--- root/root /etc/sipwall/
check "/etc/sipwall/sipwalld.conf -rw-r-----" has -rw-r----- root/root /etc/sipwall/sipwalld.conf
check "the unit in /usr/lib/systemd/system" has -rw-r--r-- root/root /usr/lib/systemd/system/sipwalld.service
check "docs/metrics.md in /usr/share/doc/sipwall" has -rw-r--r-- root/root /usr/share/doc/sipwall/metrics.md
check "the logrotate file" has -rw-r--r-- root/root /etc/logrotate.d/sipwall
ww=$(awk 'substr($1, 6, 1) == "w" || substr($1, 9, 1) == "w" {print $1, $6}' "$WORK/contents.txt" | grep -v '^l')
check "nothing group- or world-writable${ww:+: $ww}" [ -z "$ww" ]
owners=$(awk '$2 != "root/root"' "$WORK/contents.txt")
check "every file root/root${owners:+: $owners}" [ -z "$owners" ]
check "no secret or key in the package" sh -c "! grep -qiE 'secret|\.key$|\.pem$' '$WORK/contents.txt'"
mkdir -p "$WORK/x"
dpkg-deb -x "$deb" "$WORK/x"
check "the unpacked unit names /usr/bin/sipwalld" grep -qx 'ExecStart=/usr/bin/sipwalld -c /etc/sipwall/sipwalld.conf' "$WORK/x/usr/lib/systemd/system/sipwalld.service"
check "the unpacked sipwalld runs --version" "$WORK/x/usr/bin/sipwalld" --version
peers_done
