# Sourced by the tests that compare databases.  rows DB prints every row of every
# table in a stable order; what changes from run to run (wall-clock times, pid,
# host name, the clone's own directory) is left out.  Two sqlite3 processes a
# database (the tables, then every table's rows), not one a table.
rows() {
	local db=$1 t
	for t in $(sqlite3 "$db" "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"); do
		echo ".print == $t"
		case $t in
		runs) echo "SELECT id, mode, sources, packets, bytes, dropped, status, first_ts, last_ts, sessions, undecoded, evicted, read_errors, site, rules, missed_bytes, gap_sessions, filter, strict FROM runs ORDER BY id;" ;;
		evidence) echo "SELECT id, run_id, finding_id, session_id, path, sha256, packets, bytes FROM evidence ORDER BY id;" ;;
		# sources are stored as absolute paths: the clone's own directory is left out
		run_sources) echo "SELECT run_id, idx, replace(path, '$PWD/', '') AS path, packets, bytes, error, given FROM run_sources ORDER BY rowid;" ;;
		*) echo "SELECT * FROM $t ORDER BY rowid;" ;;
		esac
	done | sqlite3 -header "$db"
}
