#!/usr/bin/env bash
# `make install DESTDIR=… PREFIX=/usr` (cmake/install.cmake, README
# "Installing"): the tree it makes and what it must not make.
#   1. programs, docs, examples, the systemd unit, the logrotate file and
#      /etc/sipwall/sipwalld.conf are there with their modes (0755 programs,
#      0640 config in a 0750 directory, 0644 the rest); nothing group- or
#      world-writable; no secret, no credential.
#   2. the unit names PREFIX/bin/sipwalld, reloads with `ctl reload`, has
#      its hardening, and passes `systemd-analyze verify` without a word.
#   3. the installed programs run --version.
#   4. a second install keeps an operator's edited config.
#   5. the unit's ExecReload command fails (exit != 0, the error shown) on a
#      policy that does not load, and succeeds on a good one (real
#      sipwalld on net 175).
set -uo pipefail
SW_SRC=${SW_SRC:-.}
. "$SW_SRC/tests/peers/lib.sh"
peers_init install 175
D=$WORK/root
PREFIX=/usr

make -s -C "$SW_SRC" install BUILD="$SW_BUILD" DESTDIR="$D" PREFIX=$PREFIX JOBS=2 \
    >"$WORK/install.log" 2>&1 || die "make install failed: $(tail -n 5 "$WORK/install.log")"

# ---- 1. the tree -------------------------------------------------------------------------------
mode_is() { # PATH MODE
    local m
    m=$(stat -c %a "$D$1" 2>/dev/null)
    [ "$m" = "$2" ] || { echo "     $1: mode ${m:-missing}, want $2"; return 1; }
}
for f in /usr/bin/sipwall /usr/bin/sipwalld; do check "$f 0755" mode_is $f 755; done
for f in /usr/share/doc/sipwall/README.md /usr/share/doc/sipwall/sipwalld.md \
         /usr/share/doc/sipwall/metrics.md /usr/share/doc/sipwall/examples/sipwalld.conf.example \
         /usr/share/doc/sipwall/examples/sipwall.json /usr/lib/systemd/system/sipwalld.service \
         /etc/logrotate.d/sipwall; do
    check "$f 0644" mode_is $f 644
done
check "/etc/sipwall 0750" mode_is /etc/sipwall 750
check "/etc/sipwall/sipwalld.conf 0640" mode_is /etc/sipwall/sipwalld.conf 640
n=$(ls "$SW_SRC"/docs/*.md | grep -vc /README.md)
m=$(ls "$D"/usr/share/doc/sipwall/*.md | grep -vc README.md)
check "every docs/*.md installed ($m of $n)" [ "$m" = "$n" ]
ww=$(find "$D" -perm /022 ! -type l -printf '%m %p\n')
check "nothing group- or world-writable${ww:+: $ww}" [ -z "$ww" ]
sec=$(find "$D" -iname '*secret*' -o -iname '*.key' -o -iname '*.pem')
check "no secret or key installed${sec:+: $sec}" [ -z "$sec" ]
cred=$(grep -nE '^[[:space:]]*[^#].*(auth-key=|password|passwd)' "$D/etc/sipwall/sipwalld.conf")
check "no credential in the installed config${cred:+: $cred}" [ -z "$cred" ]

# ---- 2. the unit -----------------------------------------------------------------------------------
U=$D/usr/lib/systemd/system/sipwalld.service
check "ExecStart runs $PREFIX/bin/sipwalld" grep -qx "ExecStart=$PREFIX/bin/sipwalld -c /etc/sipwall/sipwalld.conf" "$U"
check "ExecReload asks the daemon and reports its answer" \
    grep -qx "ExecReload=$PREFIX/bin/sipwalld -c /etc/sipwall/sipwalld.conf ctl reload" "$U"
for h in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
         'CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_SETUID CAP_SETGID' \
         StateDirectory=sipwall LogsDirectory=sipwall Group=sipwall; do
    check "unit has $h" grep -qx "$h" "$U"
done
check "logrotate file calls $PREFIX/bin/sipwalld" grep -q "$PREFIX/bin/sipwalld -c /etc/sipwall/sipwalld.conf ctl reopen" "$D/etc/logrotate.d/sipwall"
if command -v systemd-analyze >/dev/null 2>&1; then
    # the unit as installed, its programs where DESTDIR put them (verify
    # checks they exist); a warning is a failure too (verify exits 0 on one)
    mkdir -p "$WORK/unit"
    sed "s#$PREFIX/bin/sipwalld#$D$PREFIX/bin/sipwalld#g" "$U" >"$WORK/unit/sipwalld.service"
    systemd-analyze verify --man=no "$WORK/unit/sipwalld.service" >"$WORK/verify.log" 2>&1
    rc=$?
    check "systemd-analyze verify: exit $rc, no complaint$( [ -s "$WORK/verify.log" ] && echo ": $(head -c 300 "$WORK/verify.log")")" \
        sh -c "[ $rc = 0 ] && [ ! -s '$WORK/verify.log' ]"
else
    # no systemd-analyze: every line is a comment, a [Section] or Key=Value
    check "the unit parses (no systemd-analyze here)" \
        sh -c "! grep -vE '^(#.*|\[[A-Za-z]+\]|[A-Za-z]+=.*|)$' '$U'"
fi

# ---- 3. the programs run ----------------------------------------------------------------------------
v=$("$D$PREFIX/bin/sipwalld" --version 2>&1)
check "installed sipwalld --version: $v" sh -c "echo '$v' | grep -qE '^sipwalld [0-9]+\.[0-9]+'"
v=$("$D$PREFIX/bin/sipwall" --version 2>&1)
check "installed sipwall --version: $v" sh -c "echo '$v' | grep -qE '[0-9]+\.[0-9]+\.[0-9]+'"

# ---- 4. an upgrade keeps the operator's config -------------------------------------------------------
echo "# edited by the operator" >>"$D/etc/sipwall/sipwalld.conf"
make -s -C "$SW_SRC" install BUILD="$SW_BUILD" DESTDIR="$D" PREFIX=$PREFIX JOBS=2 \
    >"$WORK/install2.log" 2>&1 || die "second make install failed"
check "a second install keeps the edited config" grep -q "edited by the operator" "$D/etc/sipwall/sipwalld.conf"
check "… and its mode" mode_is /etc/sipwall/sipwalld.conf 640

# ---- 5. ExecReload reports a failed reload -------------------------------------------------------------
reload_cmd=$(sed -n 's/^ExecReload=//p' "$U" | sed "s#^$PREFIX/bin/sipwalld#$D$PREFIX/bin/sipwalld#; s#/etc/sipwall/sipwalld.conf#$CONF#")
peers_start_proxy
out=$($reload_cmd 2>&1); rc=$?
check "ExecReload on a good policy: exit 0 ($out)" [ $rc = 0 ]
echo "partner broken { role nonsense }" >>"$POLICY"
out=$($reload_cmd 2>&1); rc=$?
check "ExecReload on a broken policy: exit $rc != 0" [ $rc != 0 ]
check "… and says why: $out" sh -c "echo \"\$1\" | grep -q '^error: .*policy'" _ "$out"
check "sipwalld still runs on the old policy" peers_sipwalld_alive
peers_done
