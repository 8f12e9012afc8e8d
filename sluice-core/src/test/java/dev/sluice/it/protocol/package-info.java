/** Integration tests of the HTTP and gRPC data path across downstream and upstream protocols, over real sockets. */
@NullMarked
package dev.sluice.it.protocol;

import org.jspecify.annotations.NullMarked;
