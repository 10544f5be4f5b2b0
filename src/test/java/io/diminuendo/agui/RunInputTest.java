package io.diminuendo.agui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.ProtocolException;

/** What the gateway reads of a {@code RunAgentInput} and how it refuses a bad one, naming the field. */
class RunInputTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String THREAD = "5B3C9A52-2F0E-4D5E-9A53-0D7C2C7F1E11";

    private static JsonNode body(String json) {
        try {
            return JSON.readTree(json.replace('\'', '"'));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static RunInput parse(String json) {
        return RunInput.parse(body(json), 100);
    }

    private static void refused(String json, ErrorCode code, String message) {
        assertThatThrownBy(() -> parse(json)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining(message)
                .satisfies(e -> assertThat(((ProtocolException) e).code()).isEqualTo(code));
    }

    @Test
    void onlyTheLastMessageStartsTheTurnWithItsTextAndId() {
        RunInput in = parse("{'threadId':'" + THREAD + "','runId':'r1','state':{},'tools':[],'messages':["
                + "{'id':'u0','role':'user','content':'earlier'},{'id':'a0','role':'assistant','content':'answer'},"
                + "{'id':'u1','role':'user','content':'now this'}]}");
        assertThat(in.threadId()).isEqualTo(THREAD.toLowerCase());
        assertThat(in.runId()).isEqualTo("r1");
        assertThat(in.prompt()).isEqualTo("now this");
        assertThat(in.clientMessageId()).isEqualTo("u1");
        assertThat(in.resumes()).isFalse();
    }

    @Test
    void textPartsAreJoinedAndOtherPartsLeftOut() {
        RunInput in = parse("{'threadId':'" + THREAD + "','runId':'r','messages':[{'id':'u','role':'user','content':["
                + "{'type':'text','text':'first'},{'type':'image','source':{'type':'url','value':'x'}},"
                + "{'type':'text','text':'second'}]}]}");
        assertThat(in.prompt()).isEqualTo("first\nsecond");
    }

    @Test
    void theTitleIsThePromptsFirstEightyCharactersWithinTheTitleLimit() {
        String prompt = "x".repeat(79) + "\uD83D\uDE00" + "y";
        RunInput in = RunInput.parse(body("{'threadId':'" + THREAD + "','runId':'r','messages':[{'role':'user','content':'"
                + prompt + "'}]}"), 1000);
        assertThat(in.title(200)).isEqualTo("x".repeat(79));
        assertThat(in.title(10)).isEqualTo("x".repeat(10));
        assertThat(in.clientMessageId()).isNull();
    }

    @Test
    void resumeEntriesBecomeDecisionsAndCancelledDenies() {
        RunInput in = parse("{'threadId':'" + THREAD + "','runId':'r','messages':[{'id':'a','role':'assistant'}],"
                + "'resume':[{'interruptId':'p1','status':'resolved','payload':{'decision':'allow'}},"
                + "{'interruptId':'p2','status':'cancelled'},"
                + "{'interruptId':'p3','status':'resolved','payload':{'decision':'deny'}}]}");
        assertThat(in.resumes()).isTrue();
        assertThat(in.prompt()).isNull();
        assertThat(in.resume()).containsExactly(new RunInput.Resume("p1", "allow"), new RunInput.Resume("p2", "deny"),
                new RunInput.Resume("p3", "deny"));
    }

    @Test
    void anEmptyResumeIsANewTurn() {
        RunInput in = parse("{'threadId':'" + THREAD + "','runId':'r','resume':[],'messages':[{'role':'user','content':'go'}]}");
        assertThat(in.resumes()).isFalse();
        assertThat(in.prompt()).isEqualTo("go");
    }

    @Test
    void badBodiesAreRefusedNamingTheField() {
        String ok = "'messages':[{'role':'user','content':'hi'}]";
        refused("[]", ErrorCode.BAD_REQUEST, "body must be a JSON object");
        refused("{'runId':'r'," + ok + "}", ErrorCode.BAD_REQUEST, "field 'threadId' is required");
        refused("{'threadId':'thread-1','runId':'r'," + ok + "}", ErrorCode.BAD_REQUEST, "field 'threadId' must be a UUID");
        refused("{'threadId':42,'runId':'r'," + ok + "}", ErrorCode.BAD_REQUEST, "field 'threadId' must be a string");
        refused("{'threadId':'" + THREAD + "','runId':''," + ok + "}", ErrorCode.BAD_REQUEST, "field 'runId' must not be empty");
        refused("{'threadId':'" + THREAD + "'," + ok + "}", ErrorCode.BAD_REQUEST, "field 'runId' is required");
        refused("{'threadId':'" + THREAD + "','runId':'r'}", ErrorCode.BAD_REQUEST, "field 'messages' must be an array");
        refused("{'threadId':'" + THREAD + "','runId':'r','messages':[]}", ErrorCode.BAD_REQUEST,
                "field 'messages' must end with the user's message");
        refused("{'threadId':'" + THREAD + "','runId':'r','messages':[{'role':'user','content':'a'},"
                + "{'role':'assistant','content':'b'}]}", ErrorCode.BAD_REQUEST, "field 'messages[1].role' must be \"user\"");
        refused("{'threadId':'" + THREAD + "','runId':'r','messages':[{'role':'user','content':''}]}",
                ErrorCode.BAD_REQUEST, "field 'messages[0].content' holds no text");
        refused("{'threadId':'" + THREAD + "','runId':'r','messages':[{'role':'user','content':[{'type':'image'}]}]}",
                ErrorCode.BAD_REQUEST, "field 'messages[0].content' holds no text");
        refused("{'threadId':'" + THREAD + "','runId':'r','messages':[{'role':'user','content':7}]}",
                ErrorCode.BAD_REQUEST, "field 'messages[0].content' must be a string or an array of parts");
        refused("{'threadId':'" + THREAD + "','runId':'r','messages':[{'id':'" + "i".repeat(65)
                + "','role':'user','content':'a'}]}", ErrorCode.BAD_REQUEST, "field 'messages[0].id'");
    }

    @Test
    void aPromptOverTheLimitIsTooLargeWhateverTheHistory() {
        String history = "{'role':'user','content':'" + "h".repeat(500) + "'},";
        parse("{'threadId':'" + THREAD + "','runId':'r','messages':[" + history + "{'role':'user','content':'"
                + "p".repeat(100) + "'}]}");
        refused("{'threadId':'" + THREAD + "','runId':'r','messages':[" + history + "{'role':'user','content':'"
                + "p".repeat(101) + "'}]}", ErrorCode.TOO_LARGE, "field 'messages[1].content' exceeds 100 characters");
    }

    @Test
    void malformedResumeEntriesAreRefusedNamingTheField() {
        String start = "{'threadId':'" + THREAD + "','runId':'r','messages':[],'resume':";
        refused(start + "{}}", ErrorCode.BAD_REQUEST, "field 'resume' must be an array");
        refused(start + "[7]}", ErrorCode.BAD_REQUEST, "field 'resume[0]' must be an object");
        refused(start + "[{'status':'cancelled'}]}", ErrorCode.BAD_REQUEST, "field 'resume[0].interruptId' is required");
        refused(start + "[{'interruptId':'p','status':'maybe'}]}", ErrorCode.BAD_REQUEST,
                "field 'resume[0].status' must be \"resolved\" or \"cancelled\"");
        refused(start + "[{'interruptId':'p','status':'cancelled'},{'interruptId':'q','status':'resolved'}]}",
                ErrorCode.BAD_REQUEST, "field 'resume[1].payload.decision' must be \"allow\" or \"deny\"");
        refused(start + "[{'interruptId':'p','status':'resolved','payload':{'decision':'yes'}}]}",
                ErrorCode.BAD_REQUEST, "field 'resume[0].payload.decision'");
    }
}
