import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Calls one Dev UI JSON-RPC method and prints the raw reply (used by check-dev-mode.sh; JDK only, run with
 * {@code java scripts/DevUiRpc.java ws://localhost:PORT/q/dev-ui/json-rpc-ws METHOD}).
 */
public class DevUiRpc {
    public static void main(String[] args) throws Exception {
        CompletableFuture<String> reply = new CompletableFuture<>();
        StringBuilder frame = new StringBuilder();
        WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(URI.create(args[0]),
                new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
                        frame.append(data);
                        if (last) {
                            String text = frame.toString();
                            frame.setLength(0);
                            if (text.replace(" ", "").contains("\"id\":1,")) {
                                reply.complete(text);
                            }
                        }
                        socket.request(1);
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);
        ws.sendText("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"" + args[1] + "\",\"params\":{}}", true);
        System.out.println(reply.get(30, TimeUnit.SECONDS));
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
    }
}
