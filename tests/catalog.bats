#!/usr/bin/env bats
# share/ise/catalog.json: the paper's 10 domains, 131 tasks, 16 tools.
load helper

setup() {
	CAT=$ROOT/share/ise/catalog.json
	cd "$BATS_TEST_TMPDIR"
}

# the task environments run in the namespace sandbox, which needs root
needs_root() {
	[ "$(id -u)" = 0 ] || skip "the environments run in the namespace sandbox, as root"
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
	jq -e 'all(.tasks[]; .description | test("^[A-Z][^.]*[A-Za-z0-9)]\\.$"))' "$CAT"
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

@test "every task has checks, and one task of each domain's environment holds: bare fails, plan passes, wrong values fail" {
	needs_root
	assert_equal "$(jq '[.tasks[] | select((.checks | length) == 0)] | length' "$CAT")" 0
	# all 131 tasks, three draws each, take minutes: make check-catalog
	run -0 python3 "$ROOT/tests/envcheck.py" --catalog "$CAT" --draws 1 -j 3 \
		$(jq -r '[.tasks | group_by(.domain)[] | .[0].id] | map("--task " + .) | join(" ")' "$CAT")
	assert_line "10 tasks, 1 draws each, 0 problems"
}

@test "the tasks that presuppose state name it: files, the strings they hold, branches" {
	# what each kind of task finds before its first turn (the environment
	# tests above and make check-catalog see that the setups make it)
	[ "$(jq '[.tasks[] | select(.state)] | length' "$CAT")" -ge 100 ]
	jq -e '[.tasks[] | select(.state) | .state[]] | (map(select(.branch)) | length) >= 3 and
		(map(select(.holds)) | length) >= 50 and (map(select(.path | strings | endswith("/"))) | length) >= 20' "$CAT"
	for id in debug-failing-ci-checks backport-hotfix-commit investigate-previous-failures \
		reply-to-customer-complaint summarize-access-log-errors correct-outdated-memory; do
		jq -e --arg id "$id" '.tasks[] | select(.id == $id) | .state | length > 0' "$CAT" >/dev/null ||
			fail "$id names no state"
	done
	# a state comes with the setup that makes it
	run -0 jq -r '.tasks[] | select(.state) | select(.setup | not) | .id' "$CAT"
	assert_output ""
}

@test "the environment checker reports a check that passes without the work, and a plan that fails" {
	needs_root
	jq '.tasks |= [.[] | select(.id == "debug-failing-ci-checks" or .id == "update-config-value")] |
		(.tasks[] | select(.id == "debug-failing-ci-checks") | .checks) += [{"what": "always", "command": "true"}] |
		(.tasks[] | select(.id == "debug-failing-ci-checks") | .checks) |= [.[-1]] |
		(.tasks[] | select(.id == "update-config-value") | .plan) += [{"tool": "exec", "args": {"command": "exit 7"}}] |
		(.tasks[] | select(.id == "update-config-value") | .state) += [{"path": "nowhere/"}, {"path": "app.yaml", "holds": ["no such line"]}]' \
		"$CAT" >broken.json
	run -1 python3 "$ROOT/tests/envcheck.py" --catalog broken.json --draws 1
	assert_line --partial "debug-failing-ci-checks draw 0 (bare)"
	assert_line --partial "every check passes without the task done"
	assert_line --partial "update-config-value draw 0 (plan)"
	assert_line --partial "(Command exited with code 7)"
	assert_line --partial 'update-config-value draw 0 (bare) {"pool": 5, "host": "db-primary.internal", "log_level": "debug"}: exec failed: the setup did not make {"path": "nowhere/"}'
	assert_line --partial 'the setup did not make {"path": "app.yaml", "holds": ["no such line"]}'
	assert_line "2 tasks, 1 draws each, 5 problems"
}

@test "tasks that name the same file share a workspace: both pass together, and a clash is reported" {
	needs_root
	# two scheduling tasks both add to the simulated crontab, .ise/cron.json
	run -0 python3 "$ROOT/tests/envcheck.py" --catalog "$CAT" --draws 1 --pairs \
		--task schedule-nightly-backup --task automate-weekly-kpi-report
	assert_line "2 tasks, 1 draws each, 2 pairs, 0 problems"
	# analyze-sales-variance as it was, on build-sales-dashboard's sales.csv
	jq '.tasks |= [.[] | select(.id == "analyze-sales-variance" or .id == "build-sales-dashboard")] |
		(.tasks[] | select(.id == "analyze-sales-variance")) |= walk(if type == "string" then gsub("regional_sales"; "sales") else . end)' \
		"$CAT" >clash.json
	run -1 python3 "$ROOT/tests/envcheck.py" --catalog clash.json --draws 1 --pairs
	assert_line --partial "build-sales-dashboard then analyze-sales-variance in one workspace: a check of analyze-sales-variance fails"
	assert_line --regexp '^2 tasks, 1 draws each, 2 pairs, [1-9][0-9]* problems$'
}

@test "the plan runner reports a failing step and a missing edit target" {
	jq '.tasks |= [.[0], .[1]] | del(.tasks[].setup) | .tasks[0].plan += [{"tool": "exec", "args": {"command": "exit 7"}}] |
		.tasks[1].plan += [{"tool": "edit", "args": {"path": "nowhere.txt", "oldText": "a", "newText": "b"}}]' \
		"$CAT" >broken.json
	run -1 python3 "$ROOT/tests/run-plans.py" broken.json 1
	assert_line --partial "exit 7 from 'exit 7'"
	assert_line --partial "oldText found 0 times in nowhere.txt"
	assert_line "2 tasks, 1 draws each, 2 failures"
}
