/**
 * The PROXY protocol (HAProxy's specification, v1 text and v2 binary) as pure code: a parser that
 * reads a header from the bytes received so far and never throws, and an encoder that writes one
 * into a caller's buffer. No sockets, no configuration: tcp and udp use it (SPEC §10).
 */
package dev.aegis.proxyprotocol;
