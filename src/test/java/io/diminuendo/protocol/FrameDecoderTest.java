package io.diminuendo.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

/** Golden decoding of every request type (docs/protocol.md, "1. Client protocol (`/ws`)"), defaults, ids and the errors that name the field. */
class FrameDecoderTest {
    private final FrameDecoder decoder = new FrameDecoder(new ObjectMapper(), new FrameDecoder.Limits(100000, 200, 16384));

    private ClientRequest decode(String json) {
        return decoder.decode(json.replace('\'', '"'));
    }

    @Test
    void decodesAuthenticate() {
        assertThat(decode("{'type':'authenticate','id':'a1','token':'tok'}"))
                .isEqualTo(new ClientRequest.Authenticate("\"a1\"", "tok"));
    }

    @Test
    void decodesCreateSessionWithAndWithoutOptionalFields() {
        assertThat(decode("{'type':'create_session','id':1,'title':'T','metadata':{'k':[1,2],'n':null}}"))
                .isEqualTo(new ClientRequest.CreateSession("1", "T", "{\"k\":[1,2],\"n\":null}", null));
        assertThat(decode("{'type':'create_session'}")).isEqualTo(new ClientRequest.CreateSession(null, null, null, null));
        assertThat(decode("{'type':'create_session','agent':'sim'}")).isEqualTo(new ClientRequest.CreateSession(null, null, null, "sim"));
        assertThat(decode("{'type':'create_session','title':null,'metadata':null}"))
                .isEqualTo(new ClientRequest.CreateSession(null, null, null, null));
    }

    @Test
    void decodesListSessionsWithTheDefaultLimitOf50() {
        assertThat(decode("{'type':'list_sessions'}")).isEqualTo(new ClientRequest.ListSessions(null, 50, null, null));
        assertThat(decode("{'type':'list_sessions','id':'l','limit':200,'cursor':'c','status':'archived'}"))
                .isEqualTo(new ClientRequest.ListSessions("\"l\"", 200, "c", "archived"));
    }

    @Test
    void decodesTheRequestsThatOnlyNameASession() {
        assertThat(decode("{'type':'get_session','id':'g','sessionId':'s1'}"))
                .isEqualTo(new ClientRequest.GetSession("\"g\"", "s1"));
        assertThat(decode("{'type':'archive_session','sessionId':'s1'}"))
                .isEqualTo(new ClientRequest.ArchiveSession(null, "s1"));
        assertThat(decode("{'type':'delete_session','sessionId':'s1'}"))
                .isEqualTo(new ClientRequest.DeleteSession(null, "s1"));
        assertThat(decode("{'type':'unsubscribe','sessionId':'s1'}"))
                .isEqualTo(new ClientRequest.Unsubscribe(null, "s1"));
        assertThat(decode("{'type':'cancel_turn','id':3,'sessionId':'s1'}"))
                .isEqualTo(new ClientRequest.CancelTurn("3", "s1"));
    }

    @Test
    void decodesUpdateSession() {
        assertThat(decode("{'type':'update_session','sessionId':'s1','title':'New'}"))
                .isEqualTo(new ClientRequest.UpdateSession(null, "s1", "New"));
    }

    @Test
    void decodesSubscribeWithAfterSeqMinusOneWhenAbsent() {
        assertThat(decode("{'type':'subscribe','sessionId':'s1'}")).isEqualTo(new ClientRequest.Subscribe(null, "s1", -1));
        assertThat(decode("{'type':'subscribe','sessionId':'s1','afterSeq':null}"))
                .isEqualTo(new ClientRequest.Subscribe(null, "s1", -1));
        assertThat(decode("{'type':'subscribe','sessionId':'s1','afterSeq':0}"))
                .isEqualTo(new ClientRequest.Subscribe(null, "s1", 0));
        assertThat(decode("{'type':'subscribe','sessionId':'s1','afterSeq':9000000000}"))
                .isEqualTo(new ClientRequest.Subscribe(null, "s1", 9_000_000_000L));
    }

    @Test
    void decodesHistoryWithAfterSeqZeroAndLimit100WhenAbsent() {
        assertThat(decode("{'type':'history','sessionId':'s1'}")).isEqualTo(new ClientRequest.History(null, "s1", 0, 100));
        assertThat(decode("{'type':'history','sessionId':'s1','afterSeq':42,'limit':1000}"))
                .isEqualTo(new ClientRequest.History(null, "s1", 42, 1000));
        assertThat(decode("{'type':'history','sessionId':'s1','limit':1}"))
                .isEqualTo(new ClientRequest.History(null, "s1", 0, 1));
    }

    @Test
    void decodesSendMessage() {
        assertThat(decode("{'type':'send_message','id':'m','sessionId':'s1','text':'hello','clientMessageId':'c-1'}"))
                .isEqualTo(new ClientRequest.SendMessage("\"m\"", "s1", "hello", "c-1"));
        assertThat(decode("{'type':'send_message','sessionId':'s1','text':'hello'}"))
                .isEqualTo(new ClientRequest.SendMessage(null, "s1", "hello", null));
    }

    @Test
    void decodesPermissionDecision() {
        assertThat(decode("{'type':'permission_decision','sessionId':'s1','requestId':'perm_1','decision':'allow'}"))
                .isEqualTo(new ClientRequest.PermissionDecision(null, "s1", "perm_1", "allow"));
        assertThat(decode("{'type':'permission_decision','sessionId':'s1','requestId':'perm_1','decision':'deny'}"))
                .isEqualTo(new ClientRequest.PermissionDecision(null, "s1", "perm_1", "deny"));
    }

    @Test
    void decodesPing() {
        assertThat(decode("{'type':'ping'}")).isEqualTo(new ClientRequest.Ping(null));
    }

    @Test
    void keepsStringIdsAsQuotedJsonAndIntegerIdsAsJsonIntegers() {
        assertThat(decode("{'type':'ping','id':'abc'}").id()).isEqualTo("\"abc\"");
        assertThat(decode("{'type':'ping','id':''}").id()).isEqualTo("\"\"");
        assertThat(decoder.decode("{\"type\":\"ping\",\"id\":\"q\\\"uo\\\\te\\n\"}").id()).isEqualTo("\"q\\\"uo\\\\te\\n\"");
        assertThat(decode("{'type':'ping','id':42}").id()).isEqualTo("42");
        assertThat(decode("{'type':'ping','id':-7}").id()).isEqualTo("-7");
        assertThat(decode("{'type':'ping','id':0}").id()).isEqualTo("0");
        assertThat(decode("{'type':'ping','id':9223372036854775807}").id()).isEqualTo("9223372036854775807");
        assertThat(decode("{'type':'ping','id':null}").id()).isNull();
        assertThat(decode("{'type':'ping','id':'" + "x".repeat(64) + "'}").id()).isEqualTo("\"" + "x".repeat(64) + "\"");
    }

    @Test
    void ignoresUnknownFields() {
        assertThat(decode("{'type':'ping','id':1,'extra':{'deep':[1,2,3]},'more':true}")).isEqualTo(new ClientRequest.Ping("1"));
        assertThat(decode("{'zzz':1,'type':'subscribe','sessionId':'s1','afterSeq':5,'limit':'ignored'}"))
                .isEqualTo(new ClientRequest.Subscribe(null, "s1", 5));
    }

    @Test
    void refusesFramesThatAreNotJsonObjects() {
        assertRefused(() -> decoder.decode("{nope"), ErrorCode.BAD_REQUEST, null, "not valid JSON");
        for (String frame : new String[] {"[1,2]", "\"s\"", "42", "null", "true", ""}) {
            assertRefused(() -> decoder.decode(frame), ErrorCode.BAD_REQUEST, null, "JSON object");
        }
    }

    @Test
    void answersInvalidJsonToTheIdItStartsWith() {
        assertRefused(() -> decoder.decode("{\"id\":\"t1\",\"type\":\"get_sess"), ErrorCode.BAD_REQUEST, "\"t1\"",
                "not valid JSON");
        String deep = "{\"id\":7,\"type\":\"subscribe\",\"sessionId\":" + "[".repeat(3000) + "]".repeat(3000) + "}";
        assertRefused(() -> decoder.decode(deep), ErrorCode.BAD_REQUEST, "7", "not valid JSON");
        assertRefused(() -> decoder.decode("{\"type\":\"ping\"} junk"), ErrorCode.BAD_REQUEST, null, "not valid JSON");
    }

    @Test
    void refusesAMissingOrNonStringType() {
        assertRefused(() -> decode("{'id':'x'}"), ErrorCode.BAD_REQUEST, "\"x\"", "'type'");
        assertRefused(() -> decode("{'type':null}"), ErrorCode.BAD_REQUEST, null, "'type'");
        assertRefused(() -> decode("{'type':7,'id':8}"), ErrorCode.BAD_REQUEST, "8", "'type'");
    }

    @Test
    void refusesAnUnknownTypeWithUnknownTypeKeepingTheId() {
        assertRefused(() -> decode("{'type':'nope','id':'n'}"), ErrorCode.UNKNOWN_TYPE, "\"n\"", "'nope'");
        assertRefused(() -> decode("{'type':'" + "t".repeat(100) + "'}"), ErrorCode.UNKNOWN_TYPE, null, "t".repeat(40) + "…");
    }

    @Test
    void refusesABadIdWithoutEchoingIt() {
        for (String id : new String[] {"'" + "x".repeat(65) + "'", "{}", "[]", "1.5", "true", "92233720368547758070"}) {
            assertRefused(() -> decode("{'type':'ping','id':" + id + "}"), ErrorCode.BAD_REQUEST, null, "'id'");
        }
    }

    @Test
    void namesTheFieldOfEveryInvalidValue() {
        assertRefused(() -> decode("{'type':'create_session','id':1,'title':5}"), ErrorCode.BAD_REQUEST, "1", "'title'");
        assertRefused(() -> decode("{'type':'create_session','metadata':[1]}"), ErrorCode.BAD_REQUEST, null, "'metadata'");
        assertRefused(() -> decode("{'type':'subscribe','sessionId':'s','afterSeq':'x'}"), ErrorCode.BAD_REQUEST, null, "'afterSeq'");
        assertRefused(() -> decode("{'type':'subscribe','sessionId':'s','afterSeq':-1}"), ErrorCode.BAD_REQUEST, null, "'afterSeq'");
        assertRefused(() -> decode("{'type':'subscribe','sessionId':'s','afterSeq':1.5}"), ErrorCode.BAD_REQUEST, null, "'afterSeq'");
        assertRefused(() -> decode("{'type':'history','sessionId':'s','limit':0}"), ErrorCode.BAD_REQUEST, null, "'limit'");
        assertRefused(() -> decode("{'type':'history','sessionId':'s','limit':1001}"), ErrorCode.BAD_REQUEST, null, "'limit'");
        assertRefused(() -> decode("{'type':'history','sessionId':'s','afterSeq':-5}"), ErrorCode.BAD_REQUEST, null, "'afterSeq'");
        assertRefused(() -> decode("{'type':'list_sessions','limit':201}"), ErrorCode.BAD_REQUEST, null, "'limit'");
        assertRefused(() -> decode("{'type':'list_sessions','limit':'10'}"), ErrorCode.BAD_REQUEST, null, "'limit'");
        assertRefused(() -> decode("{'type':'list_sessions','status':'gone'}"), ErrorCode.BAD_REQUEST, null, "'status'");
        assertRefused(() -> decode("{'type':'send_message','sessionId':'s'}"), ErrorCode.BAD_REQUEST, null, "'text'");
        assertRefused(() -> decode("{'type':'send_message','sessionId':'s','text':''}"), ErrorCode.BAD_REQUEST, null, "'text'");
        assertRefused(() -> decode("{'type':'send_message','sessionId':'s','text':'t','clientMessageId':1}"),
                ErrorCode.BAD_REQUEST, null, "'clientMessageId'");
        assertRefused(() -> decode("{'type':'get_session'}"), ErrorCode.BAD_REQUEST, null, "'sessionId'");
        assertRefused(() -> decode("{'type':'get_session','sessionId':12}"), ErrorCode.BAD_REQUEST, null, "'sessionId'");
        assertRefused(() -> decode("{'type':'update_session','sessionId':'s'}"), ErrorCode.BAD_REQUEST, null, "'title'");
        assertRefused(() -> decode("{'type':'permission_decision','sessionId':'s','requestId':'r','decision':'maybe'}"),
                ErrorCode.BAD_REQUEST, null, "'decision'");
        assertRefused(() -> decode("{'type':'permission_decision','sessionId':'s','requestId':'r'}"),
                ErrorCode.BAD_REQUEST, null, "'decision'");
        assertRefused(() -> decode("{'type':'permission_decision','sessionId':'s','decision':'allow'}"),
                ErrorCode.BAD_REQUEST, null, "'requestId'");
        assertRefused(() -> decode("{'type':'authenticate'}"), ErrorCode.BAD_REQUEST, null, "'token'");
    }

    @Test
    void refusesOversizedFieldsWithTooLarge() {
        assertRefused(() -> decode("{'type':'create_session','title':'" + "t".repeat(201) + "'}"), ErrorCode.TOO_LARGE, null, "'title'");
        assertThat(decode("{'type':'create_session','title':'" + "t".repeat(200) + "'}"))
                .isEqualTo(new ClientRequest.CreateSession(null, "t".repeat(200), null, null));
        assertRefused(() -> decode("{'type':'create_session','metadata':{'k':'" + "m".repeat(16384) + "'}}"),
                ErrorCode.TOO_LARGE, null, "'metadata'");
        assertRefused(() -> decode("{'type':'send_message','sessionId':'s','text':'" + "p".repeat(100001) + "'}"),
                ErrorCode.TOO_LARGE, null, "'text'");
        assertRefused(() -> decode("{'type':'get_session','sessionId':'" + "s".repeat(65) + "'}"),
                ErrorCode.TOO_LARGE, null, "'sessionId'");
    }

    private static void assertRefused(ThrowingCallable call, ErrorCode code, String id, String messagePart) {
        assertThatThrownBy(call).isInstanceOfSatisfying(FrameDecoder.DecodeException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            assertThat(e.id()).isEqualTo(id);
            assertThat(e.getMessage()).contains(messagePart);
        });
    }

    @Test
    void refusesAnythingAfterTheFrameObject() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> decoder.decode("{\"type\":\"ping\"} junk"))
                .isInstanceOf(FrameDecoder.DecodeException.class).hasMessageContaining("not valid JSON");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> decoder.decode("{\"type\":\"ping\"}{\"type\":\"ping\"}"))
                .isInstanceOf(FrameDecoder.DecodeException.class);
    }

    @Test
    void peekIdEchoesTheIdAsDecodeWouldWithoutDecodingTheRest() {
        assertThat(FrameDecoder.peekId("{\"id\":\"a1\",\"type\":\"ping\"}")).isEqualTo("\"a1\"");
        assertThat(FrameDecoder.peekId("{\"type\":\"x\",\"data\":{\"id\":\"inner\"},\"id\":42}")).isEqualTo("42");
        assertThat(FrameDecoder.peekId("{\"id\":\"q\\\"uote\"}")).isEqualTo("\"q\\\"uote\"");
        assertThat(FrameDecoder.peekId("{\"type\":\"ping\"}")).isNull();
        assertThat(FrameDecoder.peekId("{\"id\":1.5}")).isNull();
        assertThat(FrameDecoder.peekId("{\"id\":\"" + "x".repeat(65) + "\"}")).isNull();
        assertThat(FrameDecoder.peekId("{\"id\":123456789012345678901234567890}")).isNull();
        assertThat(FrameDecoder.peekId("[\"id\"]")).isNull();
        assertThat(FrameDecoder.peekId("{\"type\":\"ping\",\"id\":\"late\",")).isEqualTo("\"late\"");
        assertThat(FrameDecoder.peekId("{\"type\":")).isNull();
        assertThat(FrameDecoder.peekId("not json")).isNull();
    }
}
