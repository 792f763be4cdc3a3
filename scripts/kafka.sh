#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, combined broker + controller) for tests.
#
#   scripts/kafka.sh start    fetch the jars once (Maven Central -> .cache/kafka/lib), format a fresh
#                             data dir, start the broker, wait for "Kafka Server started"
#   scripts/kafka.sh stop     SIGTERM, then SIGKILL after KAFKA_STOP_TIMEOUT seconds
#   scripts/kafka.sh status   exit 0 and print the pid when running
#   scripts/kafka.sh logs     print the broker log (KAFKA_LOG_LINES=N for the last N lines)
#
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1), KAFKA_HEAP (512m),
# KAFKA_START_TIMEOUT (60), KAFKA_STOP_TIMEOUT (20), KAFKA_CACHE (<repo>/.cache/kafka).
# Each port gets its own run folder, so brokers on different ports can run side by side.
#
# Secured listeners, all on 127.0.0.1, with the private CA of scripts/test-pki.sh (SLUICE_TEST_PKI,
# default <repo>/.cache/pki, created when missing) and the users of scripts/kafka/test-users.env:
#   KAFKA_SASL_SSL_PORT  (KAFKA_PORT+2)  SASL_SSL: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
#   KAFKA_SSL_PORT       (KAFKA_PORT+3)  SSL, client certificate required (ssl.client.auth=required)
#   KAFKA_WRONGHOST_PORT (KAFKA_PORT+4)  SSL with a CA-signed certificate for wrong.example only
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONF="$ROOT/scripts/kafka"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-$((PORT + 2))}"
SSL_PORT="${KAFKA_SSL_PORT:-$((PORT + 3))}"
WRONGHOST_PORT="${KAFKA_WRONGHOST_PORT:-$((PORT + 4))}"
CACHE="${KAFKA_CACHE:-$ROOT/.cache/kafka}"
PKI="$(realpath -m "${SLUICE_TEST_PKI:-$ROOT/.cache/pki}")"
USERS_FILE="$CONF/test-users.env"
LIB="$CACHE/lib"
RUN="$CACHE/run-$PORT"
PID_FILE="$RUN/kafka.pid"
LOG_FILE="$RUN/kafka.log"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-20}"
# A fixed cluster id saves one JVM start (StorageTool random-uuid); the data dir is fresh anyway.
CLUSTER_ID="${KAFKA_CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}"

log() { echo "kafka.sh: $*" >&2; }

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

pom_stamp() { sha256sum "$CONF/pom.xml" | cut -d' ' -f1; }

# Resolves the broker's runtime classpath into $LIB once; reused while pom.xml is unchanged.
fetch_jars() {
  if [[ -f "$LIB/.stamp" && "$(cat "$LIB/.stamp")" == "$(pom_stamp)" ]]; then return 0; fi
  command -v mvn >/dev/null || { log "mvn not found (apt-get install maven)"; exit 1; }
  log "resolving Kafka jars into $LIB (first run only)"
  rm -rf "$LIB"
  mvn -B -q -Dstyle.color=never -f "$CONF/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIB" >&2
  pom_stamp > "$LIB/.stamp"
}

check_java() {
  command -v java >/dev/null || { log "java not found (Kafka 4 needs Java 17+)"; exit 1; }
  local v
  v="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  if [[ "${v%%.*}" -lt 17 ]]; then log "Java $v found; Kafka 4 needs Java 17+"; exit 1; fi
}

# The broker config for data dir $1 (the template with every @PLACEHOLDER@ filled in).
render() {
  sed -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$1|g" \
    -e "s|@SASL_SSL_PORT@|$SASL_SSL_PORT|g" -e "s|@SSL_PORT@|$SSL_PORT|g" -e "s|@WRONGHOST_PORT@|$WRONGHOST_PORT|g" \
    -e "s|@PKI@|$PKI|g" -e "s|@RUN@|$RUN|g" \
    -e "s|@PLAIN_USER@|$KAFKA_TEST_PLAIN_USER|g" -e "s|@PLAIN_PASSWORD@|$KAFKA_TEST_PLAIN_PASSWORD|g" \
    "$CONF/server.properties.template"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  if pid="$(running_pid)"; then log "already running (pid $pid) on 127.0.0.1:$PORT"; return 0; fi
  check_java
  fetch_jars
  for p in "$PORT" "$CONTROLLER_PORT" "$SASL_SSL_PORT" "$SSL_PORT" "$WRONGHOST_PORT"; do
    if port_busy "$p"; then log "port $p is already in use by another process"; exit 1; fi
  done
  local t0=$SECONDS
  rm -rf "$RUN"
  mkdir -p "$RUN/data"
  # shellcheck source=kafka/test-users.env
  source "$USERS_FILE"
  bash "$ROOT/scripts/test-pki.sh" "$PKI" > /dev/null
  # The WRONGHOST listener's keystore: a certificate the CA signed for another host name.
  openssl pkcs12 -export -inkey "$PKI/wronghost.key" -in "$PKI/wronghost.crt" -certfile "$PKI/ca.crt" \
    -name server -passout pass:sluice-test -out "$RUN/wronghost.p12" 2>/dev/null
  render "$RUN/data" > "$RUN/server.properties"
  local cp="$LIB/*"
  local jvm=(-Xms128m "-Xmx${KAFKA_HEAP:-512m}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true)
  # Formatting costs a JVM start; the formatted dir holds no port or path, so format once per
  # (jars, config) and copy it into each fresh data dir.
  local formatted
  formatted="$CACHE/formatted-$(cat "$LIB/.stamp" "$CONF/server.properties.template" "$USERS_FILE" | sha256sum | cut -c1-16)"
  if [[ ! -f "$formatted/meta.properties" ]]; then
    local tmp="$formatted.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    render "$tmp" > "$RUN/format.properties"
    # SCRAM credentials are metadata records: written at format time, so the broker starts with them.
    local scram=()
    for m in SCRAM-SHA-256 SCRAM-SHA-512; do
      scram+=(--add-scram "$m=[name=$KAFKA_TEST_SCRAM_USER,password=$KAFKA_TEST_SCRAM_PASSWORD]")
    done
    java "${jvm[@]}" -Dlog4j2.configurationFile="$CONF/tools-log4j2.properties" -cp "$cp" \
      kafka.tools.StorageTool format --cluster-id="$CLUSTER_ID" --config "$RUN/format.properties" "${scram[@]}" > "$RUN/format.log" 2>&1 \
      || { cat "$RUN/format.log" >&2; log "formatting the data dir failed"; rm -rf "$tmp"; exit 1; }
    rm -rf "$formatted"
    mv "$tmp" "$formatted"
  fi
  cp -a "$formatted/." "$RUN/data/"
  nohup java "${jvm[@]}" -Dlog4j2.configurationFile="$CONF/log4j2.properties" -Dkafka.logs.dir="$RUN" \
    -cp "$cp" kafka.Kafka "$RUN/server.properties" > "$LOG_FILE" 2>&1 < /dev/null &
  local pid=$!
  echo "$pid" > "$PID_FILE"
  local deadline=$((SECONDS + START_TIMEOUT))
  until grep -q 'Kafka Server started' "$LOG_FILE" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 50 "$LOG_FILE" >&2
      log "broker exited during start-up (log: $LOG_FILE)"
      rm -f "$PID_FILE"
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      tail -n 50 "$LOG_FILE" >&2
      log "broker not ready after ${START_TIMEOUT}s; stopping it"
      stop
      exit 1
    fi
    sleep 0.2
  done
  log "ready on 127.0.0.1:$PORT, SASL_SSL :$SASL_SSL_PORT, SSL :$SSL_PORT, wrong-host SSL :$WRONGHOST_PORT (pid $pid, $((SECONDS - t0))s; log: $LOG_FILE)"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then log "not running"; rm -f "$PID_FILE"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "no exit ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
  # The data is throw-away (every start formats a fresh dir); keep the log for post-mortems.
  rm -rf "$RUN/data"
  log "stopped (pid $pid)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if pid="$(running_pid)"; then echo "running pid=$pid port=$PORT"; else echo "stopped"; exit 1; fi
    ;;
  logs)
    if [[ -n "${KAFKA_LOG_LINES:-}" ]]; then tail -n "$KAFKA_LOG_LINES" "$LOG_FILE"; else cat "$LOG_FILE"; fi
    ;;
  *)
    echo "usage: $0 start|stop|status|logs" >&2
    exit 2
    ;;
esac
