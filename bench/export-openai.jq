# bench/export.sh: ise-export --format openai, as jq: the trajectory's id,
# its messages with the keys OpenAI knows (arguments as JSON text, the
# reasoning as reasoning_content), its tools and parallel_tool_calls.  It
# checks nothing (a tool result without its call passes).
{id,
 messages: [.messages[] |
   if .role == "assistant" then
     {role, content: (.content // "")}
     + (if .reasoning_content then {reasoning_content} else {} end)
     + (if (.tool_calls // []) | length > 0 then
          {tool_calls: [.tool_calls[] | {id, type: "function", function: {name: .function.name,
             arguments: (.function.arguments | if type == "string" then . else tojson end)}}]}
        else {} end)
   elif .role == "tool" then {role, tool_call_id, content}
   else {role, content} end],
 tools,
 parallel_tool_calls: any(.messages[]; (.tool_calls // []) | length > 1)}
