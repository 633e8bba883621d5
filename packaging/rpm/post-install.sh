# crosscut: systemd learns about the unit; the operator enables it after editing the config.
/sbin/ldconfig
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || :; fi
exit 0
