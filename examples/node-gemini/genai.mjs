// Google's @google/genai SDK pointed at gemini-proxy: Gemini's own API, answered from the
// gateway's Gemini key(s) and counted against a gateway client key.
//
//   cd examples/node-gemini && npm ci
//   GEMINI_PROXY_URL=http://localhost:8000 GEMINI_API_KEY=your-gateway-client-key node genai.mjs
//
// Calls generateContent, generateContentStream (each chunk printed as it arrives, on its own
// line), countTokens, embedContent and models.list; then prints what it got as one line of JSON.
// Any failure exits 1. MODEL, EMBEDDING_MODEL, API_VERSION and PROMPT change what it asks.
import { GoogleGenAI } from '@google/genai';

const model = process.env.MODEL ?? 'gemini-2.5-flash';
const embeddingModel = process.env.EMBEDDING_MODEL ?? 'gemini-embedding-001';
const httpOptions = { baseUrl: process.env.GEMINI_PROXY_URL ?? 'http://localhost:8000', timeout: 30_000 };
if (process.env.API_VERSION) {
  httpOptions.apiVersion = process.env.API_VERSION;
}
const ai = new GoogleGenAI({ apiKey: process.env.GEMINI_API_KEY, httpOptions });

async function generate() {
  const answer = await ai.models.generateContent({ model, contents: process.env.PROMPT ?? 'Say something.' });
  return { text: answer.text, modelVersion: answer.modelVersion, totalTokens: answer.usageMetadata?.totalTokenCount };
}

async function stream() {
  const started = performance.now();
  const arrivals = [];
  const texts = [];
  const chunks = await ai.models.generateContentStream({
    model,
    contents: process.env.STREAM_PROMPT ?? 'Tell me about the sea.',
  });
  for await (const chunk of chunks) {
    arrivals.push(Math.round(performance.now() - started));
    texts.push(chunk.text ?? '');
    console.log(`chunk ${arrivals.length} at ${arrivals.at(-1)} ms: ${JSON.stringify(chunk.text ?? '')}`);
  }
  return { chunks: arrivals.length, arrivalsMs: arrivals, text: texts.join('') };
}

async function countTokens() {
  const counted = await ai.models.countTokens({ model, contents: 'one two three' });
  return counted.totalTokens;
}

async function embed() {
  const embedded = await ai.models.embedContent({
    model: embeddingModel,
    contents: ['a cat', 'a dog'],
    config: { outputDimensionality: 16 },
  });
  return embedded.embeddings.map((embedding) => embedding.values.length);
}

async function listModels() {
  const names = [];
  for await (const listed of await ai.models.list({ config: { pageSize: 3 } })) {
    names.push(listed.name);
  }
  return names;
}

try {
  const result = {
    generate: await generate(),
    stream: await stream(),
    totalTokens: await countTokens(),
    embeddingLengths: await embed(),
    models: await listModels(),
  };
  console.log(JSON.stringify(result));
} catch (error) {
  console.error(`genai.mjs failed: ${error?.stack ?? error}`);
  process.exit(1);
}
