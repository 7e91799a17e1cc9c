// The console's SWF client: SWF's JSON 1.0 protocol on POST / of the origin
// that served the page, signed with SigV4 (Web Crypto) when keys are given.
"use strict";

const Swf = (() => {
  const encoder = new TextEncoder();
  const KEYS = "garcon.console.keys";  // sessionStorage: this tab only

  // Faults that mean "who are you?": the console then asks for keys.
  const AUTH_FAULTS = new Set([
    "MissingAuthenticationTokenException", "IncompleteSignatureException",
    "InvalidSignatureException", "UnrecognizedClientException", "AccessDeniedException",
    "SignatureDoesNotMatch", "MissingAuthenticationToken", "IncompleteSignature",
    "InvalidSignature", "UnrecognizedClient", "AccessDenied",
  ]);

  class SwfError extends Error {
    constructor(type, message, status) {
      super(message || type);
      this.type = type;
      this.status = status;
    }
    get auth() { return AUTH_FAULTS.has(this.type); }
  }

  function hex(buffer) {
    return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  async function sha256Hex(text) {
    return hex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  }
  async function hmac(key, text) {
    const k = await crypto.subtle.importKey(
      "raw", typeof key === "string" ? encoder.encode(key) : key,
      { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return crypto.subtle.sign("HMAC", k, encoder.encode(text));
  }

  // "20261130T184423Z" for a Date.
  function amzDate(date) {
    return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  }

  // Adds Authorization and X-Amz-Date to `headers` (lower-case names) for a
  // POST / with `body`: SigV4, service swf, the keys' region.
  async function sign(headers, body, keys, now) {
    const date = amzDate(now || new Date());
    headers["x-amz-date"] = date;
    const signed = Object.assign({ host: location.host }, headers);
    const names = Object.keys(signed).map((n) => n.toLowerCase()).sort();
    const canonicalHeaders = names.map((n) => n + ":" + String(signed[n]).trim().replace(/\s+/g, " ") + "\n").join("");
    const signedHeaders = names.join(";");
    const canonical = ["POST", "/", "", canonicalHeaders, signedHeaders, await sha256Hex(body)].join("\n");
    const day = date.slice(0, 8);
    const scope = [day, keys.region, "swf", "aws4_request"].join("/");
    const toSign = ["AWS4-HMAC-SHA256", date, scope, await sha256Hex(canonical)].join("\n");
    let key = await hmac("AWS4" + keys.secretAccessKey, day);
    key = await hmac(key, keys.region);
    key = await hmac(key, "swf");
    key = await hmac(key, "aws4_request");
    const signature = hex(await hmac(key, toSign));
    headers["authorization"] = "AWS4-HMAC-SHA256 Credential=" + keys.accessKeyId + "/" + scope +
      ", SignedHeaders=" + signedHeaders + ", Signature=" + signature;
  }

  function keys() {
    try {
      const k = JSON.parse(sessionStorage.getItem(KEYS) || "null");
      return k && k.accessKeyId && k.secretAccessKey ? k : null;
    } catch (e) {
      return null;
    }
  }
  function setKeys(k) {
    if (k) sessionStorage.setItem(KEYS, JSON.stringify(k));
    else sessionStorage.removeItem(KEYS);
  }

  let calls = 0;
  // One SWF operation: resolves to the response object, rejects with SwfError.
  // `service`: "GarconService" for Garcon's own operations (GetPayload).
  async function call(operation, request, service = "SimpleWorkflowService") {
    const body = JSON.stringify(request || {});
    const headers = {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": service + "." + operation,
    };
    const k = keys();
    if (k) await sign(headers, body, k);
    calls++;
    let response;
    try {
      response = await fetch("/", { method: "POST", headers, body, cache: "no-store" });
    } catch (e) {
      throw new SwfError("NetworkError", "cannot reach the server: " + e.message, 0);
    }
    const text = await response.text();
    let json = {};
    try {
      json = text ? JSON.parse(text) : {};
    } catch (e) {
      throw new SwfError("SerializationException", "the server answered with something other than JSON", response.status);
    }
    if (!response.ok) {
      const type = String(json.__type || response.headers.get("x-amzn-ErrorType") || "HTTP " + response.status).split("#").pop();
      throw new SwfError(type, json.message || json.Message || type, response.status);
    }
    return json;
  }

  return { call, keys, setKeys, SwfError, sign, callCount: () => calls };
})();
