// simple-whip-server's configuration for the SFU tests (its server.js
// requires ./config.js). server.js listens on every address; the tests'
// servers listen on 127.0.0.1 only, so listen() is given the host here.
const http = require('http');
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (port, cb) {
	if (typeof port === 'number' && typeof cb === 'function')
		return listen.call(this, port, '127.0.0.1', cb);
	return listen.apply(this, arguments);
};

module.exports = {
	janus: { address: process.env.JANUS_WS || 'ws://127.0.0.1:8188' },
	port: parseInt(process.env.WHIP_PORT || '7080'),
	rest: '/whip',
	allowTrickle: true,
	strictETags: false,
	iceServers: []
};
