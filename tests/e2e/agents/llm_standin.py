#!/usr/bin/env python3
"""Loopback stand-in for the model APIs that Claude Code, Gemini CLI and Codex CLI talk to.

It hands the agent the tool calls listed in a scenario file, one turn per model
request, then a final text that ends the turn. Every request it receives is
logged (body included) so tests can check what the agent sent back, e.g. the
tool_result / functionResponse that carries a secret.

Python 3 standard library only. Binds 127.0.0.1 only.

    llm_standin.py --scenario s.json --log-dir DIR [--port 0] [--port-file F]
                   [--workdir W] [--final-text T] [--max-seconds 900]

Scenario JSON: a list of turns, or {"turns": [...], "final": "text"}.
A turn is a list of tool calls (a single call may stand alone). A call is one of
    {"shell": "cat .env"}
    {"shell": {"command": "make serve", "background": true}}   (the agent's own
        background mode: Claude Bash run_in_background, Gemini is_background)
    {"write_file": {"path": "out.txt", "content": "..."}}
    {"read_file": {"path": ".env"}}
    {"raw": {"claude": {"name": "Bash", "input": {...}},
             "gemini": {"name": "run_shell_command", "args": {...}},
             "codex": {"name": "exec_command", "arguments": {...}}}}
Relative paths are resolved against --workdir (both agents want absolute ones).

Which turn comes next is derived from the conversation the agent sends (the
number of earlier assistant/model messages that carry tool calls), not from a
counter, so retries and side requests (titles, next-speaker checks, loop
detection, token counting) never advance the scenario.

Logs in --log-dir:
    requests.jsonl  one JSON object per request: seq, time, method, path, query,
                    headers (selected), kind, turn, body (parsed JSON or text),
                    reply (summary of what we answered)
    server.log      one human-readable line per request
"""

import argparse
import gzip
import json
import os
import re
import signal
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

TOOL_ID_PREFIX = "toolu_sw"  # ids of tool calls we hand out (Claude)
CALL_ID_PREFIX = "call_sw"  # call ids of function calls we hand out (Codex): call_sw_TURN_I
DEFAULT_FINAL = "All steps of the scenario are done."


def shell_args(v):
    """A shell call is "cmd" or {"command": "cmd", "background": true, "tty": true}."""
    if isinstance(v, dict):
        return v["command"], bool(v.get("background"))
    return v, False


class Scenario:
    def __init__(self, path, workdir, final_text):
        with open(path, "r", encoding="utf-8") as f:
            data = json.load(f)
        if isinstance(data, dict):
            turns = data.get("turns", [])
            final_text = data.get("final", final_text)
        else:
            turns = data
        if not isinstance(turns, list):
            raise ValueError("scenario: turns must be a list")
        self.turns = [t if isinstance(t, list) else [t] for t in turns]
        for t in self.turns:
            for call in t:
                if not isinstance(call, dict) or len(call) != 1:
                    raise ValueError("scenario: each call must be an object with one key: %r" % (call,))
                (k,) = call.keys()
                if k not in ("shell", "write_file", "read_file", "raw"):
                    raise ValueError("scenario: unknown call kind %r" % k)
        self.final = final_text
        self.workdir = workdir

    def abspath(self, p):
        if self.workdir and not os.path.isabs(p):
            return os.path.normpath(os.path.join(self.workdir, p))
        return p

    # -- Claude (Anthropic Messages API) tool_use blocks --
    def claude_calls(self, turn):
        out = []
        for i, call in enumerate(self.turns[turn]):
            (k, v), = call.items()
            if k == "shell":
                cmd, bg = shell_args(v)
                name, inp = "Bash", {"command": cmd, "description": "scenario step %d.%d" % (turn + 1, i + 1)}
                if bg:
                    inp["run_in_background"] = True
            elif k == "write_file":
                name, inp = "Write", {"file_path": self.abspath(v["path"]), "content": v["content"]}
            elif k == "read_file":
                name, inp = "Read", {"file_path": self.abspath(v["path"])}
            else:
                name, inp = v["claude"]["name"], v["claude"]["input"]
            out.append({"type": "tool_use", "id": "%s_%d_%d" % (TOOL_ID_PREFIX, turn + 1, i + 1),
                        "name": name, "input": inp})
        return out

    # -- Gemini functionCall parts --
    def gemini_calls(self, turn):
        out = []
        for i, call in enumerate(self.turns[turn]):
            (k, v), = call.items()
            if k == "shell":
                cmd, bg = shell_args(v)
                name, args = "run_shell_command", {"command": cmd, "description": "scenario step %d.%d" % (turn + 1, i + 1)}
                if bg:
                    args["is_background"] = True
            elif k == "write_file":
                name, args = "write_file", {"file_path": self.abspath(v["path"]), "content": v["content"]}
            elif k == "read_file":
                name, args = "read_file", {"file_path": self.abspath(v["path"])}
            else:
                name, args = v["gemini"]["name"], v["gemini"]["args"]
            out.append({"functionCall": {"name": name, "args": args}})
        return out


    # -- Codex (OpenAI Responses API) function_call items --
    def codex_calls(self, turn):
        out = []
        for i, call in enumerate(self.turns[turn]):
            (k, v), = call.items()
            if k == "shell":
                cmd, bg = shell_args(v)
                # Codex's unified exec tool; a background command is the shell's own `&`;
                # tty: the command runs on a pseudo-terminal Codex reads (Codex only).
                name, args = "exec_command", {"cmd": cmd + (" &" if bg else ""),
                                              "workdir": self.workdir or "."}
                if isinstance(v, dict) and v.get("tty"):
                    args["tty"] = True
            elif k in ("write_file", "read_file"):
                raise ValueError("scenario: codex has no %s tool; use a shell call" % k)
            else:
                name, args = v["codex"]["name"], v["codex"]["arguments"]
            out.append({"type": "function_call", "id": "fc_sw_%d_%d" % (turn + 1, i + 1),
                        "call_id": "%s_%d_%d" % (CALL_ID_PREFIX, turn + 1, i + 1),
                        "name": name, "arguments": json.dumps(args), "status": "completed"})
        return out


def fill_schema(schema, key=None, depth=0):
    """Produce a value matching a (JSON / OpenAPI-ish) schema, for side questions."""
    if not isinstance(schema, dict) or depth > 8:
        return None
    if "enum" in schema and schema["enum"]:
        enum = schema["enum"]
        # next-speaker check: "user" ends the agent's turn; otherwise take the first.
        return "user" if "user" in enum else enum[0]
    for alt in ("anyOf", "oneOf"):
        if alt in schema and schema[alt]:
            return fill_schema(schema[alt][0], key, depth + 1)
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if str(x).lower() != "null"), t[0] if t else None)
    t = str(t).lower() if t else None
    if t is None and "properties" in schema:
        t = "object"
    if t == "object":
        props = schema.get("properties", {}) or {}
        return {k: fill_schema(v, k, depth + 1) for k, v in props.items()}
    if t == "array":
        return []
    if t in ("number", "integer"):
        # integers default to 1 (Gemini's routing classifier wants a 1-100 score but its
        # schema states no minimum); numbers default to 0 (loop-detection confidence).
        v = 1 if t == "integer" else 0
        try:
            if "minimum" in schema:
                v = float(schema["minimum"])
            elif "exclusiveMinimum" in schema:
                v = float(schema["exclusiveMinimum"]) + 1
        except (TypeError, ValueError):
            pass
        if "maximum" in schema:
            try:
                v = min(v, float(schema["maximum"]))
            except (TypeError, ValueError):
                pass
        return int(v) if t == "integer" else v
    if t == "boolean":
        return False
    if t == "string":
        if key == "next_speaker":
            return "user"
        return "n/a (stand-in)"
    return None


class State:
    def __init__(self, args, scenario):
        self.args = args
        self.scenario = scenario
        self.lock = threading.Lock()
        self.seq = 0
        os.makedirs(args.log_dir, exist_ok=True)
        self.req_log = open(os.path.join(args.log_dir, "requests.jsonl"), "a", encoding="utf-8")
        self.srv_log = open(os.path.join(args.log_dir, "server.log"), "a", encoding="utf-8")

    def next_seq(self):
        with self.lock:
            self.seq += 1
            return self.seq

    def log(self, rec, line):
        with self.lock:
            self.req_log.write(json.dumps(rec, ensure_ascii=False) + "\n")
            self.req_log.flush()
            self.srv_log.write(time.strftime("%H:%M:%S ") + line + "\n")
            self.srv_log.flush()


LOG_HEADERS = ("user-agent", "authorization", "originator", "session_id", "content-type", "anthropic-version", "anthropic-beta", "x-app",
               "x-goog-api-client", "x-goog-api-key", "x-api-key", "content-encoding", "accept")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sprawl-llm-standin/1"
    state = None  # type: State

    def log_message(self, fmt, *a):  # silence default stderr logging
        pass

    # ---------- plumbing ----------
    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = b""
        if n:
            raw = self.rfile.read(n)
        elif "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            raw = b"".join(chunks)
        enc = (self.headers.get("Content-Encoding") or "").lower()
        try:
            if enc == "gzip":
                raw = gzip.decompress(raw)
            elif enc == "deflate":
                raw = zlib.decompress(raw)
            elif enc == "br":
                pass  # cannot decode without third-party code; logged as text below
        except Exception:
            pass
        text = raw.decode("utf-8", "replace")
        try:
            return text, json.loads(text) if text else None
        except ValueError:
            return text, None

    def _send_json(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _start_sse(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _sse(self, event, obj):
        s = ""
        if event:
            s += "event: %s\n" % event
        s += "data: %s\n\n" % json.dumps(obj)
        self.wfile.write(s.encode())
        self.wfile.flush()

    def _record(self, kind, turn, body_text, body_json, reply):
        st = self.state
        seq = self.next_seq_val
        u = urlsplit(self.path)
        hdrs = {k.lower(): v for k, v in self.headers.items() if k.lower() in LOG_HEADERS}
        for k in list(hdrs):
            if k in ("x-api-key", "x-goog-api-key", "authorization"):
                hdrs[k] = "<redacted>"
        rec = {"seq": seq, "time": time.time(), "method": self.command, "path": u.path,
               "query": u.query, "headers": hdrs, "kind": kind, "turn": turn,
               "body": body_json if body_json is not None else body_text, "reply": reply}
        st.log(rec, "#%d %s %s kind=%s turn=%s reply=%s" % (
            seq, self.command, u.path, kind, turn, json.dumps(reply)[:300]))

    # ---------- dispatch ----------
    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_HEAD(self):
        self.next_seq_val = self.state.next_seq()
        self._record("head", None, "", None, {"status": 200})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _dispatch(self):
        self.next_seq_val = self.state.next_seq()
        text, body = self._read_body()
        path = urlsplit(self.path).path
        try:
            if path.endswith("/v1/messages/count_tokens"):
                return self._anthropic_count(text, body)
            if path.endswith("/v1/messages"):
                return self._anthropic_messages(text, body)
            if path.endswith("/v1/responses"):
                return self._openai_responses(text, body)
            if path.endswith("/v1/models"):
                self._record("openai.models", None, text, body, {"models": []})
                return self._send_json(200, {"object": "list", "data": [], "models": []})
            m = re.search(r"/models/([^/:]+):([A-Za-z]+)$", path)
            if m:
                return self._gemini(m.group(1), m.group(2), text, body)
            self._record("unknown", None, text, body, {"status": 404})
            self._send_json(404, {"type": "error", "error": {"type": "not_found_error",
                                                             "message": "stand-in: no route %s" % path}})
        except (BrokenPipeError, ConnectionResetError):
            pass

    # ---------- Anthropic ----------
    def _anthropic_count(self, text, body):
        n = max(1, len(text) // 4)
        self._record("anthropic.count_tokens", None, text, body, {"input_tokens": n})
        self._send_json(200, {"input_tokens": n})

    def _anthropic_messages(self, text, body):
        sc = self.state.scenario
        body = body if isinstance(body, dict) else {}
        model = body.get("model", "claude-standin")
        tools = [t.get("name") for t in body.get("tools", []) or [] if isinstance(t, dict)]
        is_main = "Bash" in tools
        done = 0
        for msg in body.get("messages", []) or []:
            if msg.get("role") == "assistant" and isinstance(msg.get("content"), list):
                if any(isinstance(b, dict) and b.get("type") == "tool_use"
                       and str(b.get("id", "")).startswith(TOOL_ID_PREFIX) for b in msg["content"]):
                    done += 1
        if is_main and done < len(sc.turns):
            blocks = [{"type": "text", "text": "Scenario step %d." % (done + 1)}] + sc.claude_calls(done)
            stop, kind, turn = "tool_use", "anthropic.main", done + 1
        elif is_main:
            blocks = [{"type": "text", "text": sc.final}]
            stop, kind, turn = "end_turn", "anthropic.main.final", None
        else:
            blocks = [{"type": "text", "text": self._side_text(body)}]
            stop, kind, turn = "end_turn", "anthropic.side", None
        self._record(kind, turn, text, body if body else None,
                     {"stop_reason": stop, "content": blocks})
        msg_id = "msg_sw%06d" % self.next_seq_val
        in_tok = max(1, len(text) // 4)
        if not body.get("stream"):
            return self._send_json(200, {
                "id": msg_id, "type": "message", "role": "assistant", "model": model,
                "content": blocks, "stop_reason": stop, "stop_sequence": None,
                "usage": {"input_tokens": in_tok, "output_tokens": 10}})
        self._start_sse()
        self._sse("message_start", {"type": "message_start", "message": {
            "id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": in_tok, "output_tokens": 1,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}})
        self._sse("ping", {"type": "ping"})
        for i, b in enumerate(blocks):
            if b["type"] == "text":
                self._sse("content_block_start", {"type": "content_block_start", "index": i,
                                                  "content_block": {"type": "text", "text": ""}})
                self._sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                                  "delta": {"type": "text_delta", "text": b["text"]}})
            else:
                self._sse("content_block_start", {"type": "content_block_start", "index": i,
                                                  "content_block": {"type": "tool_use", "id": b["id"],
                                                                    "name": b["name"], "input": {}}})
                self._sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                                  "delta": {"type": "input_json_delta",
                                                            "partial_json": json.dumps(b["input"])}})
            self._sse("content_block_stop", {"type": "content_block_stop", "index": i})
        self._sse("message_delta", {"type": "message_delta",
                                    "delta": {"stop_reason": stop, "stop_sequence": None},
                                    "usage": {"output_tokens": 10}})
        self._sse("message_stop", {"type": "message_stop"})

    @staticmethod
    def _side_text(body):
        # Side requests (e.g. session titles) sometimes ask for JSON; keep it plausible.
        sysp = json.dumps(body.get("system", ""))
        if "json" in sysp.lower() and "title" in sysp.lower():
            return json.dumps({"title": "Scenario run", "isNewTopic": False})
        return "Scenario run"

    # ---------- OpenAI Responses (Codex) ----------
    def _openai_responses(self, text, body):
        sc = self.state.scenario
        body = body if isinstance(body, dict) else {}
        model = body.get("model", "gpt-standin")
        tools = [t.get("name") for t in body.get("tools", []) or [] if isinstance(t, dict)]
        is_main = "exec_command" in tools
        # Turns done: the highest turn among our call ids in the conversation sent back.
        done = 0
        for it in body.get("input", []) or []:
            if isinstance(it, dict) and it.get("type") == "function_call":
                m = re.match(r"%s_(\d+)_\d+$" % CALL_ID_PREFIX, str(it.get("call_id", "")))
                if m:
                    done = max(done, int(m.group(1)))
        if is_main and done < len(sc.turns):
            items = sc.codex_calls(done)
            kind, turn = "openai.main", done + 1
        else:
            final = sc.final if is_main else "Scenario run"
            items = [{"type": "message", "id": "msg_sw%06d" % self.next_seq_val, "role": "assistant",
                      "status": "completed",
                      "content": [{"type": "output_text", "text": final, "annotations": []}]}]
            kind, turn = ("openai.main.final" if is_main else "openai.side"), None
        self._record(kind, turn, text, body if body else None, {"output": items})
        resp_id = "resp_sw%06d" % self.next_seq_val
        in_tok = max(1, len(text) // 4)
        resp = {"id": resp_id, "object": "response", "created_at": int(time.time()),
                "status": "in_progress", "model": model, "output": []}
        if not body.get("stream"):
            resp.update(status="completed", output=items,
                        usage={"input_tokens": in_tok, "output_tokens": 10,
                               "total_tokens": in_tok + 10})
            return self._send_json(200, resp)
        self._start_sse()
        self._sse("response.created", {"type": "response.created", "sequence_number": 0,
                                       "response": resp})
        for i, it in enumerate(items):
            self._sse("response.output_item.done", {"type": "response.output_item.done",
                                                    "sequence_number": i + 1,
                                                    "output_index": i, "item": it})
        done_resp = dict(resp, status="completed", output=items,
                         usage={"input_tokens": in_tok, "input_tokens_details": {"cached_tokens": 0},
                                "output_tokens": 10, "output_tokens_details": {"reasoning_tokens": 0},
                                "total_tokens": in_tok + 10})
        self._sse("response.completed", {"type": "response.completed",
                                         "sequence_number": len(items) + 1, "response": done_resp})

    # ---------- Gemini ----------
    def _gemini(self, model, method, text, body):
        sc = self.state.scenario
        body = body if isinstance(body, dict) else {}
        if method == "countTokens":
            n = max(1, len(text) // 4)
            self._record("gemini.countTokens", None, text, body or None, {"totalTokens": n})
            return self._send_json(200, {"totalTokens": n})
        if method == "embedContent":
            self._record("gemini.embedContent", None, text, body or None, {"embedding": "zeros"})
            return self._send_json(200, {"embedding": {"values": [0.0] * 8}})
        if method not in ("generateContent", "streamGenerateContent"):
            self._record("gemini.unknown", None, text, body or None, {"status": 404})
            return self._send_json(404, {"error": {"code": 404, "message": "stand-in: no method %s" % method,
                                                   "status": "NOT_FOUND"}})
        fnames = []
        for t in body.get("tools", []) or []:
            for fd in (t.get("functionDeclarations") or t.get("function_declarations") or []):
                fnames.append(fd.get("name"))
        is_main = "run_shell_command" in fnames
        gc = body.get("generationConfig") or body.get("generation_config") or {}
        schema = gc.get("responseJsonSchema") or gc.get("responseSchema") or gc.get("response_schema")
        done = 0
        for c in body.get("contents", []) or []:
            if c.get("role") == "model" and any(isinstance(p, dict) and "functionCall" in p
                                                for p in c.get("parts", []) or []):
                done += 1
        if is_main and not schema and done < len(sc.turns):
            parts = [{"text": "Scenario step %d." % (done + 1)}] + sc.gemini_calls(done)
            kind, turn = "gemini.main", done + 1
        elif is_main and not schema:
            parts = [{"text": sc.final}]
            kind, turn = "gemini.main.final", None
        elif schema:
            parts = [{"text": json.dumps(fill_schema(schema))}]
            kind, turn = "gemini.side.json", None
        else:
            parts = [{"text": "Scenario run"}]
            kind, turn = "gemini.side", None
        self._record(kind + ("" if method == "streamGenerateContent" else ".nonstream"), turn,
                     text, body or None, {"parts": parts})
        resp = {"candidates": [{"content": {"role": "model", "parts": parts},
                                "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": max(1, len(text) // 4), "candidatesTokenCount": 10,
                                  "totalTokenCount": max(1, len(text) // 4) + 10},
                "modelVersion": model, "responseId": "sw%06d" % self.next_seq_val}
        if method == "generateContent":
            return self._send_json(200, resp)
        self._start_sse()
        self.wfile.write(("data: %s\r\n\r\n" % json.dumps(resp)).encode())
        self.wfile.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--log-dir", required=True)
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--port-file", help="write the bound port here (default LOG_DIR/port)")
    ap.add_argument("--workdir", help="resolve relative file paths in the scenario against this")
    ap.add_argument("--final-text", default=DEFAULT_FINAL)
    ap.add_argument("--max-seconds", type=float, default=900, help="exit after this long no matter what")
    ap.add_argument("--tls-cert", help="serve https with this certificate (PEM) and --tls-key")
    ap.add_argument("--tls-key")
    args = ap.parse_args()

    scenario = Scenario(args.scenario, args.workdir and os.path.abspath(args.workdir), args.final_text)
    Handler.state = State(args, scenario)
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        # The handshake runs in the request's thread, not in accept(): one slow client
        # does not stall the others.
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    port = srv.server_address[1]
    port_file = args.port_file or os.path.join(args.log_dir, "port")
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, port_file)  # atomic: readers never see a partial file

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    timer = threading.Timer(args.max_seconds, stop)
    timer.daemon = True
    timer.start()
    print("llm_standin: listening on %s://127.0.0.1:%d, logging to %s" % ("https" if args.tls_cert else "http", port, args.log_dir), file=sys.stderr, flush=True)
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()
    timer.cancel()


if __name__ == "__main__":
    main()
