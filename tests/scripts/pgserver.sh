# A PostgreSQL server of its own for a test or a benchmark (sourced): Debian's
# postgresql package, initdb into DIR/pg, listening on the Unix socket DIR/pg
# only, trust auth.  Run as root (CI) it runs as nobody, in a directory nobody
# owns; a normal user runs it as themself.  pg_stop ends only the server
# pg_start started.
#   pg_have || skip;  pg_start DIR [postgres -c options...];  ... "$(pg_uri DB)" ...;  pg_stop
# After pg_start: PGBIN (its binaries), PGSOCK (the socket directory), PGPID.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PGPID=
pg_have() {
	[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/postgres" ]
}
pg_start() {
	local dir=$1 as=()
	shift
	PGSOCK=$dir/pg
	mkdir -p "$PGSOCK"
	chmod 755 "$dir"
	if [ "$(id -u)" = 0 ]; then
		chown nobody "$PGSOCK"
		as=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --)
	fi
	if ! "${as[@]}" "$PGBIN/initdb" -D "$PGSOCK/data" -U smaudit --auth=trust \
		--locale=C.UTF-8 -E UTF8 >"$dir/initdb.log" 2>&1; then
		echo "FAIL initdb"
		cat "$dir/initdb.log"
		return 1
	fi
	"${as[@]}" "$PGBIN/postgres" -D "$PGSOCK/data" -k "$PGSOCK" -c listen_addresses= "$@" \
		>"$dir/pg.log" 2>&1 &
	PGPID=$!
	for _ in $(seq 100); do
		"$PGBIN/pg_isready" -q -h "$PGSOCK" && return 0
		sleep 0.1
	done
	echo "FAIL the PostgreSQL server did not start"
	cat "$dir/pg.log"
	return 1
}
pg_stop() {
	if [ -n "$PGPID" ]; then
		kill -INT "$PGPID" 2>/dev/null
		wait "$PGPID" 2>/dev/null
		PGPID=
	fi
}
pg_uri() { echo "postgresql:///$1?host=$PGSOCK&user=smaudit"; }
pg_createdb() { "$PGBIN/createdb" -h "$PGSOCK" -U smaudit "$1"; }
pg_psql() { "$PGBIN/psql" -X -q -A -t -h "$PGSOCK" -U smaudit "$@"; }
