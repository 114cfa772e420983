#!/usr/bin/env bats
# share/ise/catalog.json: the paper's 10 domains, 131 tasks, 16 tools.
load helper

setup() {
	CAT=$ROOT/share/ise/catalog.json
	cd "$BATS_TEST_TMPDIR"
}

@test "the 10 domains of the paper, each with a description and tasks" {
	assert_equal "$(jq -r '[.domains[].name] | join(",")' "$CAT")" \
		"Intelligence-Core,Code-Runtime,File-IO,Source-Chain,Automation-Flow,Web-Extraction,Comms-Social,Multimedia,Agent-Memory,System-Infrastructure"
	jq -e 'all(.domains[]; (.description | length) > 40)' "$CAT"
	jq -e '[.tasks | group_by(.domain)[] | length] | min >= 12' "$CAT"
}

@test "131 tasks: verb-first Title Case names, one-sentence descriptions, the paper's known names" {
	assert_equal "$(jq '.tasks | length' "$CAT")" 131
	jq -e 'all(.tasks[]; .name | test("^[A-Z][a-z]+( (and|to|on|for|of|in|a|the|[A-Z0-9][A-Za-z0-9-]*))+$"))' "$CAT"
	jq -e 'all(.tasks[]; .description | test("^[A-Z][^.]*[a-z0-9)]\\.$"))' "$CAT"
	for name in "Simulate Physics Models" "Track Crypto Assets" "Design System Architecture" \
		"Search Competitor Info" "Get Operating Hours" "Analyze Industry Data" \
		"Debug Failing CI Checks" "Switch Development Branch" "Archive Important Releases" \
		"Organize Cloud Files" "Configure Development Environment" "Generate Static PDF Documents" \
		"Modify Canvas Widget" "Manage Notification Channel" "Update Dashboard On Event" \
		"Update Schema Diagram" "Monitor Doorbell Camera" "Adjust Speaker Volume" \
		"Generate Graphic Design" "Manage Knowledge Graph Structure" "Reflect and Improve Performance" \
		"Investigate Previous Failures" "Review Session History" "Delegate Complex Analysis" \
		"Send Message to Agent" "Preview Modification Impact" "Create New Document" \
		"Retrieve Bootstrap Package" "Coordinate Service Startup"; do
		jq -e --arg n "$name" 'any(.tasks[]; .name == $n)' "$CAT" >/dev/null || fail "missing task '$name'"
	done
	assert_equal "$(jq -r '.tasks[].name' "$CAT" | sort | uniq -d)" ""
}

@test "the 16 agent tools as OpenAI function specs, every one used by some task" {
	assert_equal "$(jq -r '[.tools[].function.name] | join(",")' "$CAT")" \
		"exec,process,read,write,edit,apply_patch,list_dir,glob,grep,web_fetch,web_search,http_request,memory_write,memory_search,memory_get,cron"
	jq -e 'all(.tools[]; .type == "function" and (.function.description | length) > 20 and
		.function.parameters.type == "object" and
		(.function.parameters.required - (.function.parameters.properties | keys) == []))' "$CAT"
	jq -e '[.tasks[].tools[]] | unique | length == 16' "$CAT"
}

@test "every task carries typed slots, a request using them, a verification and a plan" {
	jq -e 'all(.tasks[];
		(.slots | length >= 1) and
		(.slots | to_entries | all(.value.type | IN("int", "number", "enum", "name", "date", "time"))) and
		(.request as $r | .slots | keys | all(. as $k | $r | contains("{{" + $k + "}}"))) and
		(.verify | length > 5) and (.plan | length >= 2))' "$CAT"
}

@test "tasks whose target cannot exist in a workspace say what stands in for it" {
	for name in "Monitor Doorbell Camera" "Adjust Speaker Volume"; do
		jq -e --arg n "$name" '.tasks[] | select(.name == $n) | .substitute | length > 20' "$CAT" >/dev/null ||
			fail "'$name' has no substitute"
	done
	[ "$(jq '[.tasks[] | select(.substitute)] | length' "$CAT")" -ge 15 ]
}

@test "every plan runs in an empty workspace with its slots filled (write and exec steps)" {
	# fill each slot with its first value (min, from, values[0]) and run the
	# write and exec steps in order; the network steps are left to the sandbox
	jq -c '.tasks[] | . as $t |
		($t.slots | with_entries(.value |= (
			if .type == "int" or .type == "number" then .min | tostring
			elif .type == "enum" then .values[0]
			elif .type == "name" then "Amara"
			else .from end))) as $v |
		{id, steps: [.plan[] | select(.tool == "write" or .tool == "exec" or .tool == "edit") |
			.args |= with_entries(if (.value | type) == "string"
				then .value |= gsub("\\{\\{(?<k>[a-z_0-9]+)\\}\\}"; $v[.k]) else . end)]}' "$CAT" >plans.jsonl
	failed=0
	while IFS= read -r task; do
		id=$(jq -r .id <<<"$task")
		ws=$BATS_TEST_TMPDIR/ws/$id
		mkdir -p "$ws"
		while IFS= read -r step; do
			tool=$(jq -r .tool <<<"$step")
			case $tool in
			write)
				path=$ws/$(jq -r .args.path <<<"$step")
				mkdir -p "$(dirname "$path")"
				jq -j .args.content <<<"$step" >"$path" ;;
			edit)
				python3 - "$ws" "$step" <<-'PY' || { echo "$id: edit failed"; failed=1; }
				import json, sys
				a = json.loads(sys.argv[2])["args"]; p = sys.argv[1] + "/" + a["path"]
				s = open(p).read(); assert s.count(a["oldText"]) == 1
				open(p, "w").write(s.replace(a["oldText"], a["newText"]))
				PY
				;;
			exec)
				[ "$(jq -r '.args.background // false' <<<"$step")" = true ] && continue
				cmd=$(jq -r .args.command <<<"$step")
				(cd "$ws/$(jq -r '.args.workdir // "."' <<<"$step")" && timeout 10 sh -c "$cmd") </dev/null >/dev/null 2>"$ws.err" ||
					{ echo "$id: exit $? from: $cmd"; cat "$ws.err"; failed=1; } ;;
			esac
		done < <(jq -c '.steps[]' <<<"$task")
	done <plans.jsonl
	[ "$failed" -eq 0 ]
}
