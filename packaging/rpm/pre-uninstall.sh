# crosscut: on erase (not upgrade), stop and disable the agent before its files go away.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
  systemctl --no-reload disable --now crosscut.service >/dev/null 2>&1 || :
fi
exit 0
