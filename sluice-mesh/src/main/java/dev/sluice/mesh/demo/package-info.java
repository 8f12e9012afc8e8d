/** sluice demo bookinfo: the control plane, Bookinfo workloads, their sidecars and the ingress gateway as child processes. */
@NullMarked
package dev.sluice.mesh.demo;

import org.jspecify.annotations.NullMarked;
