// The Vercel AI SDK's default openai(model) provider speaks OpenAI's Responses API
// (POST /v1/responses); pointed at gemini-proxy it answers from Gemini.
//
//   cd examples/node-responses && npm ci
//   OPENAI_BASE_URL=http://localhost:8000/v1 OPENAI_API_KEY=any-key node ai-sdk.mjs [tool|stream|object]
//
// Prints what it got as one line of JSON.
import { openai } from '@ai-sdk/openai';
import { generateObject, generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';

const model = openai(process.env.MODEL ?? 'gemini-2.5-flash');

const getWeather = tool({
  description: 'The current weather of a city',
  inputSchema: z.object({ city: z.string().describe('The city, e.g. Paris') }),
  execute: async ({ city }) => ({ city, temperature_c: 21, condition: 'sunny' }),
});

async function withTool() {
  const result = await generateText({
    model,
    tools: { get_weather: getWeather },
    stopWhen: stepCountIs(3),
    prompt: 'What is the weather in Paris? Use get_weather.',
  });
  return {
    text: result.text,
    steps: result.steps.length,
    toolCalls: result.steps.flatMap((step) => step.toolCalls.map((call) => ({ name: call.toolName, input: call.input }))),
    toolResults: result.steps.flatMap((step) => step.toolResults.map((r) => r.output)),
    finishReason: result.finishReason,
    usage: result.totalUsage,
  };
}

async function streamed() {
  const result = streamText({ model, prompt: 'Tell me about the sea in two sentences.' });
  const deltas = [];
  for await (const delta of result.textStream) {
    deltas.push(delta);
  }
  return { text: await result.text, deltas: deltas.length, finishReason: await result.finishReason, usage: await result.usage };
}

async function structured() {
  const { object, finishReason } = await generateObject({
    model,
    schema: z.object({
      city: z.string(),
      population: z.number().int(),
      landmarks: z.array(z.string()),
    }),
    prompt: 'Describe Paris.',
  });
  return { object, finishReason };
}

const modes = { tool: withTool, stream: streamed, object: structured };
const mode = process.argv[2] ?? 'tool';
if (!(mode in modes)) {
  console.error(`usage: node ai-sdk.mjs [${Object.keys(modes).join('|')}]`);
  process.exit(2);
}
console.log(JSON.stringify(await modes[mode]()));
