'use strict';
// What the gateway imports from undici, for the bundle only (scripts/bundle.mjs points `undici` here).
// undici's index.js loads all of undici: fetch, WebSocket, EventSource, the cache stores, the mock
// agents, the interceptors - about 400 KB of code the gateway never calls, parsed at every start.
// This file loads the dispatchers and the request API the gateway uses and wires them the way
// index.js does (undici 7.x). bundle.mjs fails the build if src/ imports a name not exported here.

const Dispatcher = require('undici/lib/dispatcher/dispatcher');
const api = require('undici/lib/api');
const util = require('undici/lib/core/util');
const { InvalidArgumentError } = require('undici/lib/core/errors');
const { getGlobalDispatcher } = require('undici/lib/global');

// index.js: every dispatcher gets .request(), .stream() ... from the API.
Object.assign(Dispatcher.prototype, api);

// index.js's makeDispatcher(api.request): request(url, opts) on opts.dispatcher or the global one.
function request(url, opts) {
  if (!url || (typeof url !== 'string' && typeof url !== 'object' && !(url instanceof URL))) throw new InvalidArgumentError('invalid url');
  if (opts != null && typeof opts !== 'object') throw new InvalidArgumentError('invalid opts');
  if (opts && opts.path != null) {
    if (typeof opts.path !== 'string') throw new InvalidArgumentError('invalid opts.path');
    const path = opts.path.startsWith('/') ? opts.path : `/${opts.path}`;
    url = new URL(util.parseOrigin(url).origin + path);
  } else {
    if (!opts) opts = typeof url === 'object' ? url : {};
    url = util.parseURL(url);
  }
  const { agent, dispatcher = getGlobalDispatcher() } = opts;
  if (agent) throw new InvalidArgumentError('unsupported opts.agent. Did you mean opts.client?');
  return api.request.call(dispatcher, {
    ...opts,
    origin: url.origin,
    path: url.search ? `${url.pathname}${url.search}` : url.pathname,
    method: opts.method || (opts.body ? 'PUT' : 'GET'),
  });
}

module.exports = {
  Dispatcher,
  Agent: require('undici/lib/dispatcher/agent'),
  ProxyAgent: require('undici/lib/dispatcher/proxy-agent'),
  Socks5ProxyAgent: require('undici/lib/dispatcher/socks5-proxy-agent'),
  EnvHttpProxyAgent: require('undici/lib/dispatcher/env-http-proxy-agent'),
  request,
};
