# bash completion for smaudit(1).
# The commands and each command's options come from the binary itself
# (`smaudit --complete [COMMAND]`, one option a line: long name, short name or '-',
# argument or '-', then the words the argument may be, if listed: --format's, --class's),
# so they follow the command table of src/cli.c and the name tables of fmt.c and verdict.c.
_smaudit()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local prog=${COMP_WORDS[0]} table long short arg values want="" words="" opts=""
	COMPREPLY=()
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$("$prog" --complete 2>/dev/null) help --help --version" -- "$cur"))
		return 0
	fi
	if [ "${COMP_WORDS[1]}" = help ]; then
		[ "$COMP_CWORD" -eq 2 ] &&
			COMPREPLY=($(compgen -W "$("$prog" --complete 2>/dev/null)" -- "$cur"))
		return 0
	fi
	table=$("$prog" --complete "${COMP_WORDS[1]}" 2>/dev/null) || return 0
	while read -r long short arg values; do
		opts="$opts $long"
		[ "$short" != - ] && opts="$opts $short"
		if [ "$prev" = "$long" ] || { [ "$short" != - ] && [ "$prev" = "$short" ]; }; then
			want=$arg words=$values
		fi
	done <<<"$table"
	if [ -n "$words" ]; then
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		return 0
	fi
	case $want in
	"" | -) ;;
	IFACE)
		COMPREPLY=($(compgen -W "any $(ls /sys/class/net 2>/dev/null)" -- "$cur"))
		return 0
		;;
	USER)
		COMPREPLY=($(compgen -u -- "$cur"))
		return 0
		;;
	DIR)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur"))
		return 0
		;;
	FILE | DB | CAPTURE*)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0
		;;
	*) return 0 ;; # a number, an address, a time: nothing to offer
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return 0
	fi
	# bare arguments: captures (audit), ONTAP output or captures (site)
	compopt -o filenames 2>/dev/null
	COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _smaudit smaudit
