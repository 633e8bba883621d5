#!/usr/bin/env bash
# Writes the bundled replay sample (deterministic: same bytes on every run).
#   configs/samples/upbit-ticker.ndjson     Upbit ticker messages: 10 minutes x 5 symbols,
#                                           from 2025-01-23T08:00:00Z (1737619200000 ms)
#   configs/samples/collector-events.ndjson crosscut events of a collector: errors, a burst
#                                           of failed calls that opens a breaker, a log line
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p configs/samples
awk 'BEGIN {
  split("BTC ETH XRP SOL DOGE", sym, " ");
  base = 1737619200000; seed = 12345;
  for (minute = 0; minute < 10; minute++) {
    for (s = 1; s <= 5; s++) {
      # A different, fixed number of messages per symbol and minute: 6 to 25.
      seed = (seed * 75 + 74) % 65537;
      n = 6 + seed % 20;
      for (i = 0; i < n; i++) {
        ts = base + minute * 60000 + int(i * 60000 / n) + s * 7;
        price = 1000 * s + minute * 3 + i;
        printf "{\"type\":\"ticker\",\"code\":\"KRW-%s\",\"trade_price\":%d.0,\"change\":\"RISE\",\"timestamp\":%.0f,\"stream_type\":\"REALTIME\"}\n", sym[s], price, ts;
      }
    }
  }
}' > configs/samples/upbit-ticker.ndjson

target='{"exchange":"upbit","region":"korea","request_type":"ticker"}'
{
  echo '{"event":"log","level":"info","logger":"collector","category":"app","message":"replay started","extra":{"exchange":"upbit","symbols":["BTC","ETH","XRP","SOL","DOGE"]}}'
  echo '{"event":"error","kind":"ws_connection","exception":{"type":"HTTPError","message":"429 Too Many Requests"},"target":'"$target"',"context":{"url":"wss://api.upbit.com/websocket/v1","attempt":1}}'
  for i in 1 2 3 4 5; do echo '{"event":"outcome","resource":"upbit/korea/ticker","success":false}'; done
  echo '{"event":"error","kind":"ws_connection","exception":{"type":"ConnectionError","message":"connection refused"},"target":'"$target"',"context":{"url":"wss://api.upbit.com/websocket/v1","attempt":6}}'
  echo '{"event":"error","kind":"kafka_producer","exception":{"type":"KafkaError","message":"Local: Message timed out"},"target":'"$target"',"context":{"topic":"upbit-ticker"}}'
  echo '{"event":"log","level":"warning","logger":"collector","category":"app","message":"reconnecting","extra":{"user":"ops@example.com","backoff_ms":2000}}'
} > configs/samples/collector-events.ndjson
