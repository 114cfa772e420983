# bench/export.sh: ise-export --format sharegpt, as jq: human, gpt,
# function_call (the call, or a list of calls, after the text and
# <tool_call> when there is text) and one observation a run of results,
# reasoning as a leading <think> block, system and tools as text.  It checks
# nothing (the loader's order is not enforced).
def think: if (.reasoning_content // "") != "" then "<think>\n" + .reasoning_content + "\n</think>\n\n" else "" end;
def calls: [.tool_calls[] | {name: .function.name,
    arguments: (.function.arguments | if type == "string" then (try fromjson catch .) else . end)}]
  | if length == 1 then .[0] else . end | tojson;
{id,
 conversations: (reduce (.messages[] | select(.role != "system")) as $m ([];
   if $m.role == "tool" and length > 0 and .[-1].from == "observation" then
     .[-1].value += "\n</tool_response>\n<tool_response>\n" + $m.content
   elif $m.role == "tool" then . + [{from: "observation", value: $m.content}]
   elif $m.role == "user" then . + [{from: "human", value: $m.content}]
   elif ($m.tool_calls // []) | length > 0 then
     . + [{from: "function_call", value: ($m | think + (if (.content // "") != ""
       then .content + "\n<tool_call>" + calls + "</tool_call>" else calls end))}]
   else . + [{from: "gpt", value: ($m | think + (.content // ""))}] end)),
 system: (if .messages[0].role == "system" then .messages[0].content else "" end),
 tools: (.tools | tojson)}
