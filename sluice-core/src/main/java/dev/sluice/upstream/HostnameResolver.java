package dev.sluice.upstream;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;

/**
 * Blocking name resolution; always called on the cluster manager's resolver executor, never on an
 * event loop or the control thread. {@link #JDK} uses the JDK's resolver (and its cache).
 */
@FunctionalInterface
public interface HostnameResolver {
  HostnameResolver JDK = name -> Arrays.asList(InetAddress.getAllByName(name));

  List<InetAddress> resolve(String hostname) throws UnknownHostException;
}
