package dev.sluice.server;

import dev.sluice.admin.AdminHandler;
import dev.sluice.admin.AdminRequest;
import dev.sluice.admin.AdminResponse;
import dev.sluice.admin.AdminServer;
import dev.sluice.listener.ActiveListener;
import dev.sluice.listener.ListenerManager;
import dev.sluice.upstream.HostImpl;
import io.envoyproxy.envoy.admin.v3.ListenerStatus;
import io.envoyproxy.envoy.admin.v3.Listeners;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * {@code /listeners}: one {@code name::address} line per listener, or with {@code ?format=json}
 * an {@code envoy.admin.v3.Listeners}. The address is the bound one (a port-0 listener shows its
 * real port), as Envoy prints its listen socket's local address.
 */
final class ListenersHandler {
  private final ListenerManager listeners;

  ListenersHandler(ListenerManager listeners) {
    this.listeners = listeners;
  }

  void register(AdminServer admin) {
    admin.register("/listeners", "print listener info", false, AdminHandler.sync(this::handle));
  }

  AdminResponse handle(AdminRequest request) {
    if ("json".equals(request.query().first("format"))) {
      Listeners.Builder out = Listeners.newBuilder();
      for (ActiveListener l : listeners.listeners()) {
        if (l.internalAddress() != null) {
          out.addListenerStatuses(ListenerStatus.newBuilder().setName(l.name())
              .setLocalAddress(Address.newBuilder().setEnvoyInternalAddress(l.internalAddress().toProto())));
          continue;
        }
        List<InetSocketAddress> addresses = addresses(l);
        ListenerStatus.Builder status = ListenerStatus.newBuilder().setName(l.name())
            .setLocalAddress(address(addresses.getFirst()));
        for (InetSocketAddress a : addresses.subList(1, addresses.size())) {
          status.addAdditionalLocalAddresses(address(a));
        }
        out.addListenerStatuses(status);
      }
      return ClustersHandler.json(out.build(), false);
    }
    StringBuilder text = new StringBuilder();
    for (ActiveListener l : listeners.listeners()) {
      // An internal listener prints as Envoy's envoy://name/.
      String address = l.internalAddress() != null ? l.internalAddress().toString() : HostImpl.format(addresses(l).getFirst());
      text.append(l.name()).append("::").append(address).append('\n');
    }
    return AdminResponse.ok(text.toString());
  }

  private static List<InetSocketAddress> addresses(ActiveListener l) {
    List<InetSocketAddress> bound = l.boundAddresses();
    return bound.isEmpty() ? l.configuredAddresses() : bound;
  }

  private static Address address(InetSocketAddress a) {
    return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
        .setAddress(a.getAddress().getHostAddress()).setPortValue(a.getPort())).build();
  }
}
