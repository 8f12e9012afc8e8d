/** The local control plane at run time: mesh state, ADS server (SotW and Delta), per-proxy ACK status, the HTTP API the CLI uses. */
@NullMarked
package dev.sluice.mesh.server;

import org.jspecify.annotations.NullMarked;
