from drone_kit.clients.docker_streams import BuildProgress, PushProgress

BUILD_OK = [
    {"stream": "Step 1/3 : FROM base\n"},
    {"stream": " ---> 1a2b\n"},
    {"stream": "Step 2/3 : RUN echo hi && "},
    {"stream": "echo there\n"},
    {"stream": " ---> Running in 9f\nhi\nthere\n"},
    {"stream": "Step 3/3 : CMD [\"sh\"]\n"},
    {"aux": {"ID": "sha256:feed"}},
    {"stream": "Successfully built feed0\n"},
]

BUILD_FAILS = [
    {"stream": "Step 1/2 : FROM base\n"},
    {"stream": "Step 2/2 : RUN make\n"},
    {"stream": " ---> Running in 77\n"},
    {"stream": "make: *** No rule to make target.\n"},
    {"errorDetail": {"code": 2, "message": "The command '/bin/sh -c make' returned a non-zero code: 2"},
     "error": "The command '/bin/sh -c make' returned a non-zero code: 2"},
]


def feed_all(progress, events):
    lines = []
    for event in events:
        lines += progress.feed(event)
    return lines


def test_build_lines_are_whole_even_when_chunks_split_them():
    progress = BuildProgress()
    lines = feed_all(progress, BUILD_OK)
    assert "Step 2/3 : RUN echo hi && echo there" in lines
    assert progress.image_id == "sha256:feed"
    assert progress.error is None and progress.finish() == []


def test_build_failure_names_the_instruction_and_keeps_its_output():
    progress = BuildProgress()
    feed_all(progress, BUILD_FAILS)
    assert progress.step == "Step 2/2 : RUN make"
    assert list(progress.tail) == ["make: *** No rule to make target."]
    assert progress.error == "The command '/bin/sh -c make' returned a non-zero code: 2"
    assert progress.image_id is None


def test_build_tail_is_bounded():
    progress = BuildProgress()
    feed_all(progress, [{"stream": "Step 1/1 : RUN x\n"}, *({"stream": f"line {i}\n"} for i in range(100))])
    assert len(progress.tail) == 20 and progress.tail[-1] == "line 99"


PUSH_EVENTS = [
    {"status": "The push refers to repository [127.0.0.1:5000/app]"},
    {"status": "Preparing", "progressDetail": {}, "id": "aaa"},
    {"status": "Preparing", "progressDetail": {}, "id": "bbb"},
    {"status": "Waiting", "progressDetail": {}, "id": "aaa"},
    {"status": "Layer already exists", "progressDetail": {}, "id": "bbb"},
    {"status": "Pushing", "progressDetail": {"current": 512, "total": 52_000_000}, "progress": "[>  ]", "id": "aaa"},
    {"status": "Pushing", "progressDetail": {"current": 9000, "total": 52_000_000}, "progress": "[=> ]", "id": "aaa"},
    {"status": "Pushed", "progressDetail": {}, "id": "aaa"},
    {"status": "v1: digest: sha256:abc size: 739"},
    {"progressDetail": {}, "aux": {"Tag": "v1", "Digest": "sha256:abc", "Size": 739}},
]


def test_push_logs_one_line_per_layer_state_change():
    progress = PushProgress()
    assert feed_all(progress, PUSH_EVENTS) == [
        "layer bbb: already in the registry",
        "layer aaa: uploading (52.0 MB)",
        "layer aaa: uploaded",
    ]
    assert (progress.digest, progress.size) == ("sha256:abc", 739)
    assert progress.uploaded == {"aaa"} and progress.reused == {"bbb"}


def test_push_failure_arrives_inside_the_stream():
    progress = PushProgress()
    feed_all(progress, [
        {"status": "The push refers to repository [10.231.0.2:5000/app]"},
        {"errorDetail": {
            "message": 'Get "https://10.231.0.2:5000/v2/": http: server gave HTTP response to HTTPS client'},
         "error": 'Get "https://10.231.0.2:5000/v2/": http: server gave HTTP response to HTTPS client'},
    ])
    assert "server gave HTTP response to HTTPS client" in progress.error
    assert progress.digest is None
