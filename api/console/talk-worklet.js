// The microphone, for "Talk to this agent": the AudioWorklet that cuts the input into 20 ms
// frames of 16-bit PCM (at the context's rate) and posts each to the page, which sends it on
// the call's socket. Its output is silence.
class SwitchboardMicrophone extends AudioWorkletProcessor {
  constructor() {
    super();
    this.size = Math.round(sampleRate / 50);
    this.frame = new Int16Array(this.size);
    this.filled = 0;
  }

  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (input) {
      for (let i = 0; i < input.length; i += 1) {
        const s = Math.max(-1, Math.min(1, input[i]));
        this.frame[this.filled] = s < 0 ? s * 32768 : s * 32767;
        this.filled += 1;
        if (this.filled === this.size) {
          this.port.postMessage(this.frame.buffer, [this.frame.buffer]);
          this.frame = new Int16Array(this.size);
          this.filled = 0;
        }
      }
    }
    return true;
  }
}

registerProcessor('switchboard-microphone', SwitchboardMicrophone);
