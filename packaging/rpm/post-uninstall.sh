# crosscut: forget the unit; restart a running agent after an upgrade.
/sbin/ldconfig
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || :
  if [ "$1" -ge 1 ]; then systemctl try-restart crosscut.service >/dev/null 2>&1 || :; fi
fi
exit 0
