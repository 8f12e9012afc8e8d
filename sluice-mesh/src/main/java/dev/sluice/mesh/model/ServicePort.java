package dev.sluice.mesh.model;

/**
 * A service port: {@code port} is what clients dial, {@code targetPort} where the workload
 * listens; {@code protocol} is Istio's protocol selection from the port name or
 * {@code appProtocol} ({@code HTTP}, {@code HTTP2}, {@code GRPC}, {@code TCP}, ...).
 */
public record ServicePort(String name, int port, int targetPort, String protocol) {}
