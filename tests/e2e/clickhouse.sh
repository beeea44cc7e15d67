# SPDX-License-Identifier: Apache-2.0
# A private clickhouse-server for the fleet tests (source after lib.sh): loopback only, random
# high ports, its own data dir and config under $E2E_TMP; every wait bounded; stopped at exit.
# Sets CH_URL (the HTTP interface). ch_query SQL prints the answer (TabSeparated by default).

CH_DIR=$E2E_TMP/clickhouse
CH_PID=

ch_free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

ch_config() {
	local http=$1 tcp=$2
	mkdir -p "$CH_DIR/data" "$CH_DIR/tmp" "$CH_DIR/user_files" "$CH_DIR/format_schemas"
	cat >"$CH_DIR/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>$CH_DIR/server.log</log>
        <errorlog>$CH_DIR/server.err.log</errorlog></logger>
    <http_port>$http</http_port>
    <tcp_port>$tcp</tcp_port>
    <listen_host>127.0.0.1</listen_host>
    <max_connections>64</max_connections>
    <path>$CH_DIR/data/</path>
    <tmp_path>$CH_DIR/tmp/</tmp_path>
    <user_files_path>$CH_DIR/user_files/</user_files_path>
    <format_schema_path>$CH_DIR/format_schemas/</format_schema_path>
    <users_config>/etc/clickhouse-server/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mark_cache_size>5368709</mark_cache_size>
</yandex>
XML
}

# Starts (or restarts, same ports and data) the server; returns once it answers SELECT 1.
ch_start() {
	if [ ! -f "$CH_DIR/config.xml" ]; then
		command -v clickhouse-server >/dev/null || { echo "FAIL $E2E_NAME: clickhouse-server" \
			"is not installed (make deps)"; exit 1; }
		local http tcp
		http=$(ch_free_port) && tcp=$(ch_free_port) || { echo "FAIL $E2E_NAME: no free port"; exit 1; }
		ch_config "$http" "$tcp"
		CH_URL=http://127.0.0.1:$http
	fi
	clickhouse-server --config-file="$CH_DIR/config.xml" >>"$CH_DIR/stdout.log" 2>&1 &
	CH_PID=$!
	E2E_KILL="${E2E_KILL:-} $CH_PID"
	for _ in $(seq 300); do
		[ "$(curl -s -m 2 --data-binary 'SELECT 1' "$CH_URL/" 2>/dev/null)" = 1 ] && return 0
		kill -0 "$CH_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "FAIL $E2E_NAME: clickhouse-server did not start"
	tail -5 "$CH_DIR/server.err.log" 2>/dev/null
	exit 1
}

# Stops the server and waits (bounded) until it has exited: its data dir is locked till then.
ch_stop() {
	[ -n "$CH_PID" ] || return 0
	kill -TERM "$CH_PID" 2>/dev/null
	for _ in $(seq 300); do kill -0 "$CH_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$CH_PID" 2>/dev/null
	wait "$CH_PID" 2>/dev/null
	CH_PID=
}

ch_query() {
	curl -sS -m 20 --data-binary "$1" "$CH_URL/"
}
