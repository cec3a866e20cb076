import { api, follow } from '../app.js';
import { h, fill, clock } from '../ui.js';
import { transcriptList } from './calls.js';

/**
 * "Talk to this agent": the browser's microphone and speaker on a real call. The API starts the
 * call's workflow and gives a ticket for its media socket; the microphone goes up as 16-bit PCM
 * (an AudioWorklet cuts it into 20 ms frames), the agent's audio comes down as 8 kHz PCM and is
 * scheduled gap-free, and marks are echoed once what preceded them has played, as Twilio does,
 * so barge-in and the goodbye work as on the phone. The transcript follows the live stream.
 */
export function talkPanel(agent, signal) {
  const button = h('button', { type: 'button', id: 'talk-button' }, 'Talk to this agent');
  const status = h('p', { id: 'talk-status', role: 'status' }, 'Not connected.');
  const heard = h('output', { id: 'talk-heard' }, '0.0');
  const call = h('p', { id: 'talk-call', class: 'muted' });
  const transcript = h('ol', { id: 'talk-transcript', class: 'transcript', 'aria-live': 'polite', 'aria-label': 'Conversation so far' });
  let live = null;

  button.addEventListener('click', async () => {
    if (live) return live.hangUp();
    button.disabled = true;
    try {
      live = await connect(agent, { status, heard, call, transcript, button, ended: () => { live = null; } });
    } catch (e) {
      status.textContent = e.message;
      live = null;
    }
    button.disabled = false;
  });
  signal?.addEventListener('abort', () => live?.hangUp());

  return h('section', { class: 'panel', 'aria-label': 'Talk to this agent' },
    h('h2', {}, 'Talk to this agent'),
    h('p', { class: 'muted' }, 'Your microphone and speaker, through the same bridge and engine a phone call uses. The call is recorded in history like any other.'),
    h('p', { class: 'row' }, button, h('span', {}, 'Agent audio played: ', heard, ' s')),
    status, call, transcript);
}

async function connect(agent, view) {
  const { status, heard, call, transcript, button, ended } = view;
  if (!navigator.mediaDevices?.getUserMedia || !window.AudioWorkletNode) {
    throw new Error('This browser cannot capture audio here (it needs HTTPS or localhost).');
  }
  status.textContent = 'Asking for the microphone…';
  let microphone;
  try {
    microphone = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
  } catch (e) {
    throw new Error(`No microphone: ${e.message}`);
  }
  const ctx = new AudioContext({ sampleRate: 48000 });
  const closeAll = () => {
    microphone.getTracks().forEach((t) => t.stop());
    ctx.close().catch(() => {});
  };
  let ticket;
  try {
    await ctx.audioWorklet.addModule('/console/talk-worklet.js');
    status.textContent = 'Calling…';
    ticket = await api(`/v1/agents/${agent.id}/talk`, { method: 'POST' });
  } catch (e) {
    closeAll();
    throw e;
  }
  const page = h('span', {});
  fill(call, 'Call ', h('code', {}, ticket.call_sid), ' · ',
    h('a', { href: ticket.history_url, target: '_blank', rel: 'noopener' }, 'history in Temporal'), page);
  fill(transcript);

  const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${ticket.socket_path}`);
  socket.binaryType = 'arraybuffer';
  const send = (event) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(event));

  // The agent's audio, played back to back; marks echoed when what came before them has played.
  let playhead = 0;
  let played = 0;
  const sources = new Set();
  const marks = new Map();
  const play = (bytes) => {
    const pcm = new Int16Array(bytes);
    if (!pcm.length) return;
    const buffer = ctx.createBuffer(1, pcm.length, ticket.agent_sample_rate);
    const channel = buffer.getChannelData(0);
    for (let i = 0; i < pcm.length; i += 1) channel[i] = pcm[i] / 32768;
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(ctx.destination);
    const at = Math.max(ctx.currentTime + 0.04, playhead);
    source.start(at);
    playhead = at + buffer.duration;
    sources.add(source);
    source.onended = () => {
      sources.delete(source);
      played += buffer.duration;
      heard.textContent = played.toFixed(1);
    };
  };
  const mark = (name) => {
    const wait = Math.max(0, playhead - ctx.currentTime) * 1000;
    marks.set(name, setTimeout(() => { marks.delete(name); send({ event: 'mark', name }); }, wait));
  };
  const clear = () => {
    for (const source of sources) { source.onended = null; source.stop(); }
    sources.clear();
    playhead = 0;
    for (const [name, timer] of marks) { clearTimeout(timer); send({ event: 'mark', name }); }
    marks.clear();
  };

  const words = new AbortController();
  let callId = null;
  follow('/v1/calls/live', (name, data) => {
    if (name === 'call' && data.call_sid === ticket.call_sid) callId = data.id;
    if (name === 'segment' && data.call_id === callId) {
      transcript.append(h('li', { class: data.speaker },
        h('p', { class: 'who' }, `${data.speaker === 'agent' ? 'Agent' : 'You'} · ${clock(data.start_ms)}`),
        data.text,
        data.interrupted ? h('span', { class: 'interrupted' }, ' — interrupted') : null));
    }
  }, words.signal);

  socket.onopen = async () => {
    send({ event: 'start', sampleRate: ctx.sampleRate });
    const input = ctx.createMediaStreamSource(microphone);
    const frames = new AudioWorkletNode(ctx, 'switchboard-microphone');
    frames.port.onmessage = (e) => socket.readyState === WebSocket.OPEN && socket.send(e.data);
    input.connect(frames).connect(ctx.destination);
    await ctx.resume();
    status.textContent = 'Connected: say hello.';
    button.textContent = 'Hang up';
  };
  socket.onmessage = (e) => {
    if (typeof e.data !== 'string') return play(e.data);
    const event = JSON.parse(e.data);
    if (event.event === 'mark') mark(event.name);
    if (event.event === 'clear') clear();
  };
  socket.onclose = async () => {
    status.textContent = `Call ended after ${played.toFixed(1)} s of agent audio.`;
    button.textContent = 'Talk to this agent';
    words.abort();
    for (const timer of marks.values()) clearTimeout(timer);
    closeAll();
    ended();
    if (callId) await showSaved(callId, transcript, page);
  };
  return {
    hangUp() {
      send({ event: 'stop' });
      socket.close();
    },
  };
}

/** The call as saved once it has ended: its whole transcript, and a link to its page. */
async function showSaved(callId, transcript, page) {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const call = await api(`/v1/calls/${callId}`).catch(() => null);
    if (call?.ended_at) {
      const saved = transcriptList(call.transcript);
      fill(transcript, ...(saved.tagName === 'OL' ? Array.from(saved.children) : [saved]));
      fill(page, ' · ', h('a', { href: `#/calls/${callId}` }, 'the call\'s page'));
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
