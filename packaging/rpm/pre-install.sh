# crosscut: the service account the unit runs as.
getent group crosscut >/dev/null || groupadd -r crosscut
getent passwd crosscut >/dev/null || \
  useradd -r -g crosscut -d /nonexistent -M -s /sbin/nologin -c "crosscut agent" crosscut
exit 0
