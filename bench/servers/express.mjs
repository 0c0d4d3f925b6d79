// The original app: Express 4 answering "Hello world" (re-written, not copied, for comparison).
import express from 'express';

const app = express();
app.get('/', (_request, response) => {
  response.send('Hello world');
});
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ address: `http://127.0.0.1:${server.address().port}` })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
