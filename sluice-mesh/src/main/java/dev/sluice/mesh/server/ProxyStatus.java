package dev.sluice.mesh.server;

import java.util.List;

/** A connected proxy and the state of each xDS type it was sent (CDS, LDS, EDS, RDS in that order). */
public record ProxyStatus(String proxy, String mode, String protocol, List<TypeStatus> types) {
  public ProxyStatus {
    types = List.copyOf(types);
  }

  public TypeStatus type(String type) {
    return types.stream().filter(t -> t.type().equals(type)).findFirst()
        .orElse(new TypeStatus(type, null, null, TypeStatus.NOT_SENT, null, null));
  }
}
