#include "gen/brief.h"

#include <stdlib.h>
#include <string.h>

/*
 * The built-in catalog's request clauses in about 60% of their words: every
 * slot and every figure the plan relies on is kept, filler is not.  Sorted
 * by task id for bsearch.
 */
static const struct brief {
	const char *id, *text;
} builtin[] = {
    {"add-gateway-route", "route {{path}} to {{upstream}} at {{rpm}} requests a minute with a "
			  "{{timeout}} s timeout, then validate and reload"},
    {"add-pre-commit-hook", "add a pre-commit hook to the {{repo}} repository blocking files over "
			    "{{max_kb}} KB and AWS or private keys, proving it blocks and allows"},
    {"adjust-speaker-volume",
     "set the {{room}} speaker (speakers/) to {{volume}}% volume, unmuted, capped at {{cap}}%"},
    {"aggregate-sub-agent-reports",
     "total the north, south and west {{metric}} reports ({{n1}}, {{n2}}, {{n3}}) in "
     "reports/{{metric}}-summary.md, naming the largest region"},
    {"analyze-industry-data",
     "project the {{industry}} market {{years}} years out from {{start_size}} billion USD in 2025 "
     "at {{growth}}% a year into industry/{{industry}}-projection.csv"},
    {"analyze-sales-variance",
     "rank {{months}} months of {{region}} sales from regional_sales.csv ({{base}} EUR in "
     "January, {{growth}}% monthly) by gap to a flat {{target}} EUR: variance.csv"},
    {"announce-release-in-channel",
     "announce in #{{channel}} that version {{version}} ships on {{date}} with {{n}} new features, "
     "linking the notes (see release-notes/{{version}}.md)"},
    {"apply-config-patch",
     "patch nginx/shop.conf (upstream 127.0.0.1:8080, 1 MB) to port {{port}}, {{max_body}} MB "
     "uploads, {{rate}} requests/s, its zone in nginx/limits.conf"},
    {"archive-important-releases",
     "tag the {{releases}} {{project}} release commits as v1.N.0 and archive the newest {{keep}} "
     "as tar.gz in archive-storage/ with SHA256SUMS"},
    {"assemble-screen-recording-clip",
     "record {{seconds}} s of the {{app}} demo (demo/display.py) at {{fps}} fps into "
     "capture/{{app}}/ with a manifest.json of frame times"},
    {"audit-disk-usage",
     "list the directories of the {{app}} volume in vol/ ({{days}} days of {{kb}} KB logs) over "
     "{{threshold}} KB, largest first, in disk-report-{{app}}.txt"},
    {"automate-weekly-kpi-report",
     "write a {{team}} KPI summary from kpi.csv to reports/ every Monday at {{hour}}:00, flagging "
     "days under the {{target}}% SLA"},
    {"backport-hotfix-commit", "in app/, backport the idle-session timeout fix to "
			       "release/{{release}} and tag it v{{release}}.{{patch}}"},
    {"batch-rename-photo-files",
     "rename the {{count}} {{event}} camera files in photos/ from {{date}} (IMG_0412.JPG) to "
     "{{date}}_{{event}}_001.jpg style in shooting order, dry run first"},
    {"benchmark-sorting-algorithms",
     "benchmark sorts.py's insertion_sort and merge_sort against sorted() on {{n}} floats, "
     "{{runs}} runs each, medians in bench.json"},
    {"build-channel-digest",
     "log today's #{{channel}} news ({{author}} shipped the {{service}} fix at {{time}}, handover "
     "18:00, retro Friday 10:00) and digest the day in digests/{{channel}}.md"},
    {"build-sales-dashboard", "build dashboard.html for {{region}} sales over {{months}} months "
			      "from {{base}} EUR at {{growth}}% a month, best month highlighted"},
    {"build-unit-converter-cli",
     "write a convert.py VALUE CLI (--from, --to, --precision; km, mi, kg, lb) and convert "
     "{{value}} {{unit}} at --precision {{precision}} into conversion.txt"},
    {"bump-dependency-version", "in svc/, raise the pin to {{target}} on a SEC-{{ticket}} branch "
				"(requests 2.31.0, urllib3 2.0.7, jinja2 3.1.2 today) and commit"},
    {"calculate-loan-amortization",
     "amortize a {{principal}} EUR mortgage at {{rate}}% over {{years}} years from {{start}} into "
     "schedule.csv: monthly instalment and total interest"},
    {"check-runtime-versions",
     "check this machine for Python {{py}}+ and GNU tar {{tarv}}+ for {{project}} in "
     "versions-{{project}}.txt and look up newer Python releases"},
    {"check-website-availability",
     "check https://{{domain}}{{path}} answers within {{max_ms}} ms, log it in "
     "uptime/{{domain}}.csv, alert in uptime/ALERT-{{domain}}.md if not"},
    {"collect-job-postings",
     "table {{role}} postings in {{city}} with jobs/seen.md's ({{s1}}, {{s2}}, {{s3}} a year) in "
     "jobs/{{role}}-{{city}}.csv, median and range in jobs/{{role}}-{{city}}-summary.txt"},
    {"compress-old-logs", "gzip the {{app}} logs in logs/ older than {{days}} days out of "
			  "{{count}} daily ones, others untouched, and report the space saved"},
    {"configure-development-environment",
     "clone origin/{{project}}.git into dev/{{project}} with a .venv and a .env of "
     "APP_PORT={{port}}, confirming Python {{pyver}} or newer and the imports"},
    {"configure-port-forward-tunnel",
     "tunnel local port {{lport}} via the bastion to {{rhost}}:{{rport}} as {{name}}, without "
     "clashing with tunnels/active.list"},
    {"consolidate-duplicate-memories", "log my {{date}} {{source}} notes in memory/team-notes.md "
				       "once each: {{a}} (said twice), {{b}}"},
    {"convert-csv-to-json", "convert stock/{{site}}.csv to typed JSON in stock/{{site}}.json with "
			    "value_eur and value_usd at {{rate}} USD per EUR"},
    {"convert-invoice-currencies",
     "convert the open invoices in invoices.csv ({{a1}}, {{a2}}, {{a3}} {{base}}) to USD at the "
     "live rate or {{rate}} into invoices-usd.csv with a total"},
    {"coordinate-service-startup", "start the {{app}} stack in stack/: database, cache, then the "
				   "API on port {{port}}, waiting up to {{wait}} s for each"},
    {"correct-outdated-memory", "note that {{vendor}} went from {{old}} to {{new}} USD per unit on "
				"{{date}}, keeping the old price as superseded"},
    {"create-new-document", "create {{doc}} with Goals, Risks and Next Steps, owner {{owner}}, "
			    "review date {{due}}, under {{words}} words"},
    {"create-placeholder-thumbnails",
     "make a {{width}}x{{height}} {{photo}} placeholder img/{{photo}}.ppm and an aspect-kept "
     "thumbnail of at most {{thumb}}px, img/{{photo}}-thumb.ppm"},
    {"create-video-subtitles",
     "subtitle the {{video}} video (welcome, badges at front desk, green fire exits, ask {{host}}) "
     "as subs/{{video}}.srt from {{offset}} s, {{cue}} s each"},
    {"cut-release-tag", "in app/, tag v2.{{minor}}.{{patch}} dated {{date}} from main, with "
			"VERSION bumped and RELEASE_NOTES.md on features and fixes since v2.0.0"},
    {"debug-failing-ci-checks", "fix the failing test on {{branch}}: it expects {{vat}}% VAT on "
				"{{amount}} EUR but billing hard-codes 20%"},
    {"debug-python-traceback",
     "fix avg_weights.py's ZeroDivisionError on the {{date}} manifest (batch {{empty}} of "
     "{{batches}} empty), reporting it, and save weights-{{date}}.txt"},
    {"deduplicate-contact-list",
     "deduplicate contacts.csv ({{contacts}} contacts, ~{{dup_pct}}% e-mail case or spacing "
     "duplicates) by e-mail into contacts-clean.csv, keeping the {{keep}} one"},
    {"delegate-complex-analysis", "hand the {{rows}}-row {{dataset}} analysis to the {{agent}} "
				  "sub-agent and give me headline numbers before {{deadline}}"},
    {"design-system-architecture",
     "write an ADR (context, options, decision, consequences) for ticket booking at {{rps}} "
     "requests/s, {{team}} engineers, {{budget}} USD/month: "
     "docs/adr/0001-booking-platform-architecture.md"},
    {"detect-sensor-anomalies",
     "flag readings.csv values ({{readings}} five-minute cold-room readings around {{mean}} C, "
     "three door-open spikes) beyond {{z}} sigma into anomalies.csv"},
    {"draft-newsletter-issue",
     "draft {{org}} newsletter #{{issue}} for {{date}} as posts/newsletter-{{issue}}.md: welcome, "
     "the next three events in events.csv, volunteers via {{editor}}, under {{words}} words"},
    {"draft-social-media-post",
     "draft a {{platform}} post under 280 characters for our {{event}} on {{date}} at {{time}}, "
     "scheduled in posts/ like the drafts there"},
    {"draft-vendor-decision-memo",
     "weigh Alder, Birch, Cedar quotes ({{quote_a}}, {{quote_b}}, {{quote_c}} USD; price 10 x "
     "cheapest/quote at {{weight}}%, rest vendor-ratings.csv) in memo.md to {{owner}}"},
    {"draw-process-flowchart",
     "chart our {{line}} claims flow as Graphviz diagrams/{{line}}-claims.dot: over {{limit}} USD "
     "to {{approver}}, escalating to the manager after {{days}} days"},
    {"draw-sequence-diagram",
     "draw the numbered {{flow}} flow (browser, API, {{provider}}) as Mermaid "
     "docs/{{flow}}-sequence.mmd with a {{timeout}} s timeout and {{retries}} retries"},
    {"escalate-overdue-tickets",
     "escalate tickets.csv P1s waiting over {{p1_hours}} h and P2s over {{p2_hours}} h to "
     "{{manager}} in escalations.jsonl, as of 12:00 on 2026-03-10"},
    {"estimate-schedule-risk",
     "run {{runs}} triangular Monte Carlo runs over the first {{tasks}} packages of estimates.csv "
     "from {{start}}: P50/P{{pct}} working days and finish dates, schedule-risk.txt"},
    {"evaluate-ab-test-results",
     "check if checkout B ({{conv_b}}) beat A ({{conv_a}}) of {{visitors}} visitors each at alpha "
     "{{alpha}}: pooled z, p, alpha, verdict in ab_result.md"},
    {"extract-invoice-totals",
     "parse the {{supplier}} invoice in invoices/ ({{qty}} cartons at {{unit}} EUR, 45.00 freight, "
     "{{vat}}% VAT): net, VAT, gross, items to invoice.json"},
    {"extract-news-headlines",
     "put up to {{count}} {{keyword}} headlines from https://www.{{outlet}} (or "
     "saved/front-page.html) in headlines.md via a tested tools/headlines.py PAGE KEYWORD LIMIT"},
    {"fetch-weather-forecast",
     "save {{city}}'s next three highs ({{h1}}, {{h2}}, {{h3}} C if Open-Meteo is down) to "
     "weather/{{city}}.csv (date, high, flag), flagging days above {{threshold}} C"},
    {"find-regression-commit",
     "bisect calc/'s {{commits}} commits (right at pricing change {{good}}) for the one that made "
     "total(10.05) 11.95, its hash in BUG-{{ticket}}.txt"},
    {"find-store-locations",
     "rank {{chain}} branches near ZIP {{zip}} by distance in locations/{{chain}}-{{zip}}.md (Main "
     "St {{d1}}, Oak Ave {{d2}}, Harbor Rd {{d3}} mi)"},
    {"fix-shell-script-bug", "fix prune_reports.sh, which deletes nothing when report names hold "
			     "spaces, and run it to keep the newest {{keep}} of {{files}} logs"},
    {"forecast-inventory-demand",
     "forecast {{sku}} from history.csv (~{{base}}/week, 4-week moving average), safety stock and "
     "reorder point at {{lead}}-week lead, {{service}}% service: forecast.json"},
    {"generate-brand-color-palette",
     "make a {{shades}}-step {{brand}} tint palette from #{{hex}} (design/{{brand}}-palette.svg "
     "and .json) marking swatches passing WCAG AA with white text"},
    {"generate-graphic-design", "design a {{width}}px-wide 16:9 {{color}} banner for the {{event}} "
				"on {{date}} with white text as design/{{event}}-banner.svg"},
    {"generate-invoice-batch",
     "bill the {{clients}} {{month}} clients of timesheets/hours.csv at {{rate}} EUR an hour on "
     "{{due_days}}-day terms into invoices-{{month}}.tar.gz"},
    {"generate-notification-chime", "make a {{ms}} ms, {{freq}} Hz {{sound}} alert chime peaking "
				    "at {{level}}% volume as audio/{{sound}}.wav"},
    {"generate-static-pdf-documents", "make handout-{{event}}-{{date}}.pdf, one page, for the "
				      "{{event}} on {{date}} in {{venue}}, agenda from {{at}}"},
    {"get-operating-hours", "put the {{place}}'s {{day}} hours (flyer: {{open}} to {{close}}) and "
			    "how long it is open in hours/{{place}}.txt"},
    {"investigate-previous-failures",
     "diagnose the {{job}} failure on {{date}} ({{error}} after {{attempts}} attempts) against "
     "memory, log it and put the fix in runbooks/{{job}}.md"},
    {"log-daily-work-journal", "journal {{hours}} hours of {{task}} for {{client}} on {{date}} and "
			       "update my {{client}} total in memory/client-hours.md"},
    {"manage-knowledge-graph-structure",
     "record in the knowledge graph that {{person}} leads {{project}}, which runs on {{system}} "
     "and belongs to {{team}}, with no dangling links"},
    {"manage-notification-channel",
     "route {{severity}}-and-up alerts to {{channel}}, mute non-critical ones from {{quiet_from}} "
     "to {{quiet_to}} and send a test alert"},
    {"merge-monthly-csv-files",
     "merge the {{dept}} expense exports for the first {{months}} months of {{year}} into "
     "expenses-{{dept}}-{{year}}.csv, one header, with a grand total"},
    {"modify-canvas-widget", "on the ops canvas, widen the {{widget}} widget to {{width}} of 12 "
			     "columns and recolour it {{color}}"},
    {"monitor-background-worker", "run worker.sh on the {{queue}} queue ({{jobs}} jobs) in the "
				  "background, check on it and show its log when drained"},
    {"monitor-doorbell-camera",
     "pull {{frames}} {{door}} frames with camera/capture.py from {{at}}, logging times where over "
     "{{threshold}}% of pixels changed to camera/{{door}}-events.log"},
    {"monitor-product-reviews",
     "summarise reviews/{{product}}-export.csv ({{pos}} positive, {{neu}} neutral, {{neg}} "
     "negative) in reviews/{{product}}-sentiment.txt: negative share over {{limit}}%?"},
    {"mount-shared-storage", "mount {{share}} from {{server}} at mnt/{{share}} ({{mode}}, "
			     "{{quota}} GB quota) and confirm it"},
    {"normalize-line-endings", "convert the {{files}} Windows shift-note files in exports/ to Unix "
			       "line endings, no trailing spaces, tabs as {{tabsize}} spaces"},
    {"organize-cloud-files",
     "sort the {{client}} drive's loose {{year}} files in drive/ into contracts/, "
     "finance/{{year}}/ and presentations/, keeping version history, committed"},
    {"parallelize-batch-checksums",
     "hash {{files}} random test files of {{size_kb}} KB in batch/ with SHA-256, serially and with "
     "{{workers}} workers, sums in SHA256SUMS, and report the speed-up"},
    {"patch-retry-backoff-logic",
     "patch client.py's retry_delays to exponential backoff from {{base}} s capped at {{cap}} s "
     "(new defaults) and print the delays for {{attempts}} attempts"},
    {"personalize-speaker-reminders",
     "send {{s1}}, {{s2}} and {{s3}} (events/{{event}}/speakers.csv) personal reminders that their "
     "{{event}} slides are due {{due}}"},
    {"preview-modification-impact",
     "diff service-{{env}}.ini from 4 workers and a 60 s timeout to {{workers}} workers and "
     "{{timeout}} s into service-{{env}}.diff, original untouched"},
    {"profile-slow-function",
     "profile dedup.py's dedup() on {{n}} ids with {{dupes}}% duplicates, add a hash-based "
     "dedup_fast() and save both timings to profile-report.txt"},
    {"publish-branch-to-remote", "commit my work in work/ on a new {{branch}}, push it with "
				 "upstream tracking and write PR.md asking {{reviewer}} to review"},
    {"publish-incident-status-update",
     "update posts/status/{{service}}.md: {{severity}} incident since {{start}} UTC, fix in about "
     "{{eta}} min; cross-post to #incidents"},
    {"purge-stale-temp-files", "schedule a daily {{hour}}:15 purge of {{dir}}/ files older than "
			       "{{days}} days, run it now and report the space freed"},
    {"reconcile-bank-statement",
     "reconcile bank.csv with ledger.csv for the week of {{date}} ({{count}} lines; one payment "
     "{{diff}} EUR short, a fee unbooked) into reconciliation.txt"},
    {"reflect-and-improve-performance",
     "find why my last {{reports}} {{topic}} summaries averaged {{avg}} words against {{target}}, "
     "store a lesson and a tools/check_length.sh self-check"},
    {"remember-user-preferences", "remember that {{owner}} wants {{format}}, amounts in "
				  "{{currency}} and times in {{tz}}, and confirm it"},
    {"render-energy-usage-chart", "chart energy use (Q1 {{q1}}, Q2 {{q2}}, Q3 {{q3}}, Q4 {{q4}} "
				  "MWh) as labelled {{color}} SVG bars in charts/energy.svg"},
    {"replace-text-across-files", "rename {{old}} to {{new}} across the {{files}} markdown guides "
				  "in docs/ and list the changed lines"},
    {"reply-to-customer-complaint",
     "draft a reply in outbox/ to {{customer}}'s e-mail about damaged order #{{order}}: {{refund}} "
     "USD refund within {{days}} business days, with the date"},
    {"reproduce-flaky-test",
     "run test_avg.py with seeds 1 to {{runs}}, save the failing ones to flaky-seeds.txt, and "
     "stabilise it with an absolute tolerance of {{tol}}"},
    {"request-shift-swap", "ask #{{channel}} who can take my {{shift}} shift on {{date}} for one "
			   "of theirs, and message {{manager}}"},
    {"resolve-merge-conflict",
     "in svc/, merge feature/retry-tuning into main, keeping the branch's {{timeout_b}}s timeout "
     "(main has {{timeout_a}}s) and retries={{retries}}"},
    {"restart-crashed-worker",
     "put {{worker}} under a watchdog with up to {{max}} restarts {{backoff}} s after each crash, "
     "show it recover and give up, then leave it running"},
    {"retrieve-bootstrap-package",
     "fetch the {{package}} {{version}} linux-{{arch}} bootstrap package (from mirror/ if "
     "offline), verify its SHA-256 and unpack it into bootstrap/"},
    {"review-session-history",
     "log in memory/sessions/{{project}}.md, kept by date, that {{owner}} chose '{{decision}}' on "
     "{{date}}, then list its decisions"},
    {"rotate-application-logs", "rotate logs/{{app}}.log (about {{lines}} lines) past {{max_kb}} "
				"KB into its numbered .gz archives, keep {{keep}}, and run it now"},
    {"route-incoming-documents",
     "file the {{count}} intake/ documents into finance/, legal/ or hr/ by keyword, the rest into "
     "{{fallback}}/, logged in routing.log"},
    {"run-service-health-check",
     "start {{service}} on port {{port}} and health-check its heartbeat (stale after {{max_age}} "
     "s) into status/{{service}}.json every minute"},
    {"run-team-lunch-poll",
     "poll #{{channel}} on lunch (Thai Garden, Burrito Bar, Salad Co), record {{v1}}, {{v2}}, "
     "{{v3}} votes in polls/lunch-{{channel}}.csv and announce the winner"},
    {"run-workflow-with-retries",
     "run the nightly {{dataset}} workflow in order with {{retries}} retries per step while "
     "extract fails {{fails}} times, logging to run.log"},
    {"schedule-nightly-backup", "back up {{folder}} nightly at {{hour}}:{{minute}} as dated tar.gz "
				"archives in backups/, keeping the newest {{keep}}"},
    {"schedule-out-of-office-reply", "turn my out-of-office on from {{start}} for {{days}} days, "
				     "pointing to {{backup}}, then off again"},
    {"scrape-product-listings",
     "table {{product}} prices at Best Buy, Newegg, Micro Center ({{p1}}, {{p2}}, {{p3}} USD) in "
     "listings/{{product}}.csv, marking which fit {{budget}} USD"},
    {"search-competitor-info",
     "save {{competitor}}'s team-plan pricing to research/{{competitor}}-brief.md with the yearly "
     "gap at {{their_price}} vs our {{our_price}} USD per seat-month for {{seats}} seats"},
    {"send-appointment-reminder-sms", "text {{patient}} (see patients.csv) a one-SMS reminder of "
				      "their {{clinic}} appointment on {{date}} at {{time}}"},
    {"send-meeting-invitation", "invite {{attendee}} (staff directory.csv) to a {{minutes}}-minute "
				"{{topic}} meeting on {{date}} at {{time}} with an .ics attached"},
    {"send-message-to-agent", "send {{agent}} a {{priority}} message to pause its queue at {{at}} "
			      "until {{owner}} confirms the migration, noted in memory"},
    {"send-project-update-email", "email {{client}} (see address-book.csv) that {{project}} is "
				  "{{pct}}% done and on track for the milestone on {{milestone}}"},
    {"set-up-approval-gate", "hold the {{requests}} queue.json purchase requests above {{limit}} "
			     "USD for {{approver}}'s sign-off, auto-approving the rest"},
    {"simulate-physics-models",
     "run {{atoms}} Lennard-Jones atoms {{steps}} velocity-Verlet steps ({{dt}}, T {{temp}}), "
     "logging time and energies every 20 steps to energy.csv, final.xyz, drift"},
    {"sort-downloads-by-type", "sort downloads/ into pdf/, csv/, png/ and zip/, files over "
			       "{{days}} days old into old-files/, other types into {{misc}}/"},
    {"split-large-csv-file", "split the {{rows}}-row orders-export.csv into chunks/ of {{chunk}} "
			     "data rows, header in each, checking none were lost"},
    {"stop-runaway-process",
     "run sync.sh {{job}} in the background into logs/{{job}}.log, stop it while it hammers the "
     "dead endpoint, keep the log, cap its retries at {{retries}}"},
    {"store-contact-details", "save {{contact}} ({{role}} at {{company}}, +1-555-{{ext}}, met "
			      "{{met}}) and list my {{company}} contacts"},
    {"summarize-access-log-errors",
     "write report.awk (status-code counts, top 5xx paths) and run it on logs/access-{{date}}.log "
     "({{lines}} lines, ~{{err_rate}}% 5xx) into status-report-{{date}}.txt"},
    {"switch-development-branch", "in proj/, stash my README notes for ticket {{ticket}}, switch "
				  "to {{target}} (created from main if missing) and restore them"},
    {"sync-folder-to-bucket", "sync {{folder}} ({{files}} files) to s3://{{bucket}}/{{prefix}}/ in "
			      "{{region}}, uploading only new or changed files"},
    {"test-backup-restore", "drill a restore of the {{files}} {{dataset}} files via backups/ with "
			    "checksum checks, repeated every {{weekday}} at {{hour}}:30"},
    {"trace-memory-usage", "compare peak memory for {{rows}} sensor rows of {{fields}} numeric "
			   "fields as dicts versus tuples, peaks in KiB in memtrace.json"},
    {"track-crypto-assets",
     "value {{btc}} BTC, {{eth}} ETH, 2500 USDC at live prices (else {{btc_price}}, {{eth_price}} "
     "USD) in portfolio.csv, flagging coins over {{cap}}%"},
    {"track-long-running-goals", "track {{goal}} in memory/goals/ with {{milestones}} milestones "
				 "due {{due}}, the first {{done}} done, and show progress"},
    {"track-regulatory-updates",
     "log the {{agency}} {{topic}} rule effective {{effective}} in reg/tracker.md with the days "
     "left against our {{window}}-day review window"},
    {"track-repository-stars",
     "log {{repo}}'s stars today ({{now}} if the API is down) in metrics/stars.csv against "
     "{{before}} on {{since}}, growth in metrics/star-growth.txt"},
    {"trim-podcast-intro",
     "cut the {{intro}} s intro from episode {{episode}} (audio/episode-{{episode}}.wav, "
     "{{length}} s at {{rate}} Hz) into audio/episode-{{episode}}-trimmed.wav, new duration"},
    {"update-config-value", "in the billing app.yaml set the database pool to {{pool}}, its host "
			    "to {{host}} and the log level to {{log_level}}, nothing else"},
    {"update-dashboard-on-event",
     "rebuild the {{metric}} dashboard.html from data.csv on each CSV batch in inbox/, test with "
     "{{batch}} rows, highlighting days above {{threshold}}"},
    {"update-schema-diagram", "add a {{table}} table (id key, {{parent}}_id foreign key) to the "
			      "{{app}} ER diagram in docs/{{app}}-er.mmd"},
    {"validate-order-records",
     "validate orders.json ({{count}} orders) for order id, SKU, positive price, quantity "
     "1-{{maxq}}, {{currency}} only; breakers and valid/total in report.txt"},
    {"validate-regex-pattern",
     "write PATTERN in code_pattern.py for {{prefix}} codes: hyphen, exactly {{digits}} digits, "
     "optional -XL/-S; test it and save codes.txt's valid ones to valid-codes.txt"},
    {"write-ci-workflow-config",
     "add .github/workflows/ci.yml to webapp/ running ruff and pytest on Python {{pyver}} for "
     "{{branch}}, failing below {{coverage}}% coverage, committed"},
    {"write-colleague-recommendation",
     "recommend {{colleague}}, a {{role}} I've known {{years}} years who {{achievement}}, in under "
     "150 words in posts/recommendation-{{colleague}}.md"},
    {"write-unit-tests",
     "unit-test shipping.py's shipping_fee in test_shipping.py: {{fee}} EUR under {{free_over}} "
     "EUR, free from there, 5 EUR extra above {{heavy}} kg"},
};

static int by_id(const void *key, const void *entry)
{
	return strcmp(key, ((const struct brief *)entry)->id);
}

const char *ise_brief_builtin(const char *task_id)
{
	const struct brief *b = task_id
				    ? bsearch(task_id, builtin, sizeof builtin / sizeof *builtin,
					      sizeof *builtin, by_id)
				    : NULL;
	return b ? b->text : NULL;
}

/* Every {{slot}} of a is also in b. */
static int slots_within(const char *a, const char *b)
{
	const char *open, *close;

	for (; (open = strstr(a, "{{")) && (close = strstr(open + 2, "}}")); a = close + 2) {
		size_t n = (size_t)(close + 2 - open);
		const char *p = b;
		while ((p = strstr(p, "{{")) && strncmp(p, open, n))
			p += 2;
		if (!p)
			return 0;
	}
	return 1;
}

const char *ise_task_brief(const cJSON *task)
{
	const char *request =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(task, "request"));
	const char *own = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(task, "brief"));
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(task, "id"));

	if (own && *own)
		return own;
	const char *text = ise_brief_builtin(id);
	if (!text || !request || !slots_within(request, text) || !slots_within(text, request))
		return NULL;
	return text;
}
