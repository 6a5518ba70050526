"""The edgefl wire format (docs/protocol.md §1, §4, §5) for the conformance device: one
size-prefixed FlatBuffer Envelope per ZeroMQ message, identifier "EFLW".

The classes under edgefl.fb are generated at build time by `flatc --python` from
runtime/schemas/*.fbs into the build tree (conformance.py --generated); nothing here knows the
C++ code. Messages are plain dicts, named by their union member."""
import flatbuffers
import numpy as np

from edgefl.fb import (Ack, Bye, Capabilities, DataStatistics, Envelope, Heartbeat, Join, Message,
                       Metrics, PartialSum, Reject, Task, Update, Welcome, EncodedTensor, PeerAssignment,
                       PeerModel, PeerReport)

VERSION = 0x0102  # 1.2
IDENTIFIER = b"EFLW"

# docs/protocol.md §10, "Status codes".
CODES = {
    "ok": 0, "invalid_argument": 1, "not_found": 2, "io_error": 3, "corrupt": 4, "truncated": 5,
    "too_large": 6, "misaligned": 7, "version_mismatch": 8, "shape_mismatch": 9, "non_finite": 10,
    "unknown_enum": 11, "out_of_range": 12, "unavailable": 13, "timeout": 14,
    "unauthenticated": 15, "resource_exhausted": 16, "duplicate": 17, "stale": 18,
    "failed_precondition": 19, "internal": 20, "cancelled": 21, "norm_exceeded": 22,
    "unknown_device": 23,
}
NAMES = {value: name for name, value in CODES.items()}

CODEC_F32 = 0
CODEC_F16 = 1
PEER_VERSION = 0x0106  # 1.6: the dpsgd messages (docs/protocol.md §14)
RELAY_VERSION = 0x0107  # 1.7: a relay's partial sum (docs/protocol.md §15)


class WireError(Exception):
    pass


def _finish(builder, kind, table, version):
    Envelope.Start(builder)
    Envelope.AddVersion(builder, version)
    Envelope.AddMessageType(builder, kind)
    Envelope.AddMessage(builder, table)
    builder.FinishSizePrefixed(Envelope.End(builder), IDENTIFIER)
    return bytes(builder.Output())


def f32_tensor(builder, values):
    values = np.ascontiguousarray(values, dtype="<f4")
    vector = builder.CreateNumpyVector(values)
    EncodedTensor.Start(builder)
    EncodedTensor.AddCodec(builder, CODEC_F32)
    EncodedTensor.AddParameterCount(builder, values.size)
    EncodedTensor.AddF32Values(builder, vector)
    return EncodedTensor.End(builder)


def join(device_id, boot_counter, sample_count, codecs=(CODEC_F32,), memory_budget=0,
         version=VERSION, peer_endpoint=None, relay=False):
    b = flatbuffers.Builder(256)
    peer = b.CreateString(peer_endpoint) if peer_endpoint is not None else None
    arch = b.CreateString("x86_64")
    software = b.CreateString("edgefl-conformance-device 1.0")
    Capabilities.StartCodecsVector(b, len(codecs))
    for codec in reversed(codecs):
        b.PrependUint8(codec)
    codec_vector = b.EndVector()
    ident = b.CreateString(device_id) if device_id is not None else None
    Capabilities.Start(b)
    Capabilities.AddArch(b, arch)
    Capabilities.AddCores(b, 1)
    Capabilities.AddMemoryBudgetBytes(b, memory_budget)
    Capabilities.AddSampleCount(b, sample_count)
    Capabilities.AddCodecs(b, codec_vector)
    Capabilities.AddSoftwareVersion(b, software)
    if memory_budget:
        Capabilities.AddBackend(b, 1)  # reference arithmetic
    capabilities = Capabilities.End(b)
    Join.Start(b)
    if ident is not None:
        Join.AddDeviceId(b, ident)
    Join.AddCapabilities(b, capabilities)
    Join.AddBootCounter(b, boot_counter)
    if peer is not None:
        Join.AddPeerEndpoint(b, peer)
    if relay:
        Join.AddRelay(b, True)  # 1.7: a relay aggregator (§15)
    return _finish(b, Message.Message.Join, Join.End(b), version)


def peer_model(sender, epoch, step, missed_previous, params, run_id):
    """A PeerModel (§14.3) with f32 parameters."""
    b = flatbuffers.Builder(256 + 4 * len(params))
    tensor = f32_tensor(b, params)
    name = b.CreateString(sender)
    PeerModel.Start(b)
    PeerModel.AddSender(b, name)
    PeerModel.AddEpoch(b, epoch)
    PeerModel.AddStep(b, step)
    PeerModel.AddMissedPrevious(b, missed_previous)
    PeerModel.AddParams(b, tensor)
    PeerModel.AddRunId(b, run_id)
    return _finish(b, Message.Message.PeerModel, PeerModel.End(b), PEER_VERSION)


def peer_report(epoch, step, train_loss, distances):
    """A PeerReport (§14.6) without a snapshot; `distances` maps neighbour id -> ||x_j - x_k||^2."""
    b = flatbuffers.Builder(256)
    ids = [b.CreateString(name) for name in distances]
    PeerReport.StartNeighboursVector(b, len(ids))
    for offset in reversed(ids):
        b.PrependUOffsetTRelative(offset)
    id_vector = b.EndVector()
    PeerReport.StartSquaredDistancesVector(b, len(distances))
    for value in reversed(list(distances.values())):
        b.PrependFloat64(value)
    distance_vector = b.EndVector()
    PeerReport.Start(b)
    PeerReport.AddEpoch(b, epoch)
    PeerReport.AddStep(b, step)
    PeerReport.AddTrainLoss(b, train_loss)
    PeerReport.AddNeighbours(b, id_vector)
    PeerReport.AddSquaredDistances(b, distance_vector)
    return _finish(b, Message.Message.PeerReport, PeerReport.End(b), PEER_VERSION)


def _partial_sum(b, high, low, total_weight, update_count):
    """1.7: a relay's exact sum (§4 Update, partial_sum): per-parameter signed high and
    unsigned low words of the 128-bit fixed-point sum."""
    PartialSum.StartHighVector(b, len(high))
    for word in reversed(high):
        b.PrependInt64(int(word))
    high_vector = b.EndVector()
    PartialSum.StartLowVector(b, len(low))
    for word in reversed(low):
        b.PrependUint64(int(word))
    low_vector = b.EndVector()
    PartialSum.Start(b)
    PartialSum.AddHigh(b, high_vector)
    PartialSum.AddLow(b, low_vector)
    PartialSum.AddTotalWeight(b, total_weight)
    PartialSum.AddUpdateCount(b, update_count)
    return PartialSum.End(b)


def update(update_id, task, sample_count, delta, train_loss, steps, batch_sizes,
           round_=None, base_version=None, run_id=None, base_hash=None, partial_sum=None):
    """An Update for `task` (a decoded Task dict); keyword overrides forge bad ones for tests.
    partial_sum=(high, low, total_weight, update_count) makes a relay's update (empty payload)."""
    b = flatbuffers.Builder(len(delta) * 4 + 512)
    payload = f32_tensor(b, delta if partial_sum is None else np.zeros(0, np.float32))
    partial = _partial_sum(b, *partial_sum) if partial_sum is not None else None
    Metrics.StartBatchSizesVector(b, len(batch_sizes))
    for size in reversed(batch_sizes):
        b.PrependUint32(size)
    sizes = b.EndVector()
    Metrics.Start(b)
    Metrics.AddTrainLoss(b, train_loss)
    Metrics.AddSteps(b, steps)
    Metrics.AddBatchSizes(b, sizes)
    metrics = Metrics.End(b)
    Update.Start(b)
    Update.AddUpdateId(b, update_id)
    Update.AddTaskId(b, task["task_id"])
    Update.AddRound(b, task["round"] if round_ is None else round_)
    Update.AddBaseVersion(b, task["model_version"] if base_version is None else base_version)
    Update.AddSampleCount(b, sample_count)
    Update.AddMetrics(b, metrics)
    Update.AddPayload(b, payload)
    Update.AddRunId(b, task["run_id"] if run_id is None else run_id)
    Update.AddBaseHash(b, task["base_hash"] if base_hash is None else base_hash)
    if partial is not None:
        Update.AddPartialSum(b, partial)
    return _finish(b, Message.Message.Update, Update.End(b), VERSION if partial is None else RELAY_VERSION)


def heartbeat(sequence, working_on, ineligible=None):
    """ineligible: the 1.6 reason bits (1 temperature, 2 load, 4 battery, 8 memory); None
    leaves the field out, as a device of an earlier version does."""
    b = flatbuffers.Builder(64)
    Heartbeat.Start(b)
    Heartbeat.AddSequence(b, sequence)
    Heartbeat.AddWorkingOn(b, working_on)
    if ineligible is not None:
        Heartbeat.AddIneligible(b, ineligible)
    return _finish(b, Message.Message.Heartbeat, Heartbeat.End(b), VERSION if ineligible is None else 0x0106)


def reject(code, text):
    b = flatbuffers.Builder(128)
    message = b.CreateString(text)
    Reject.Start(b)
    Reject.AddReason(b, CODES[code])
    Reject.AddMessage(b, message)
    return _finish(b, Message.Message.Reject, Reject.End(b), VERSION)


def bye(reason=0, text="device stopping"):
    b = flatbuffers.Builder(64)
    message = b.CreateString(text)
    Bye.Start(b)
    Bye.AddReason(b, reason)
    Bye.AddMessage(b, message)
    return _finish(b, Message.Message.Bye, Bye.End(b), VERSION)


def _dense_params(tensor, what):
    """f32 or f16 parameters (§5) -> float32 array; the peer messages may use either."""
    if tensor is None:
        raise WireError(what + " missing")
    if tensor.Codec() == CODEC_F16:
        bits = tensor.F16ValuesAsNumpy()
        if not isinstance(bits, np.ndarray) or bits.size != tensor.ParameterCount():
            raise WireError("%s: f16 values for parameter_count %d" % (what, tensor.ParameterCount()))
        values = bits.astype("<u2").view("<f2").astype(np.float32)
    elif tensor.Codec() == CODEC_F32:
        values = tensor.F32ValuesAsNumpy()
        if not isinstance(values, np.ndarray) or values.size != tensor.ParameterCount():
            raise WireError("%s: f32 values for parameter_count %d" % (what, tensor.ParameterCount()))
        values = values.astype(np.float32)
    else:
        raise WireError("%s in codec %d; this device reads f32 and f16" % (what, tensor.Codec()))
    if not np.all(np.isfinite(values)):
        raise WireError(what + " hold NaN or Inf")
    return values


def _string(value):
    return (value or b"").decode()


def _peer_assignment(a):
    neighbours = []
    for i in range(a.NeighboursLength()):
        n = a.Neighbours(i)
        neighbours.append({"device_id": _string(n.DeviceId()), "endpoint": _string(n.Endpoint()),
                           "public_key": _string(n.PublicKey()), "weight": n.Weight()})
    start = a.Start()
    if start is None:
        raise WireError("a PeerAssignment without start")
    return {"epoch": a.Epoch(), "topology": a.Topology(), "self_weight": a.SelfWeight(),
            "neighbours": neighbours, "step_deadline_ms": a.StepDeadlineMs(),
            "staleness_bound": a.StalenessBound(), "report_interval": a.ReportInterval(),
            "snapshot_interval": a.SnapshotInterval(), "model_spec": _string(start.ModelSpec()),
            "params": _f32_params(start.Params()), "run_id": start.RunId()}


def _peer_report(r):
    snapshot = r.Snapshot()
    return {"epoch": r.Epoch(), "step": r.Step(), "train_loss": r.TrainLoss(),
            "distances": {_string(r.Neighbours(i)): r.SquaredDistances(i) for i in range(r.NeighboursLength())},
            "missed": r.Missed(), "one_sided_misses": r.OneSidedMisses(), "refused": r.Refused(),
            "bytes_sent": r.BytesSent(), "bytes_received": r.BytesReceived(),
            "snapshot": None if snapshot is None else _dense_params(snapshot, "peer_report.snapshot")}


def _f32_params(tensor):
    if tensor is None:
        raise WireError("a Task without params")
    if tensor.Codec() != CODEC_F32:
        raise WireError("Task params in codec %d; the protocol sends them as f32" % tensor.Codec())
    values = tensor.F32ValuesAsNumpy()
    if not isinstance(values, np.ndarray) or values.size != tensor.ParameterCount():
        raise WireError("Task params: %s f32 values for parameter_count %d"
                        % (getattr(values, "size", 0), tensor.ParameterCount()))
    if not np.all(np.isfinite(values)):
        raise WireError("Task params hold NaN or Inf")
    return values.astype(np.float32)


# Model.Layer.kind values (docs/protocol.md §4, Task) of the layers with parameters.
PARAMETRISED_LAYERS = (0, 3, 4)  # dense, conv2d, depthwise_conv2d
LOSSES = ("softmax_cross_entropy", "squared", "logistic")


def _model(model):
    """A 1.5 Model table -> {"input": (h, w, c), "layers": [(kind, units, bias)], "loss": name},
    or None when the Task has none. Units and bias only for layers with parameters (elsewhere
    they mean nothing); the other layer fields are not read."""
    if model is None:
        return None
    layers = []
    for i in range(model.LayersLength()):
        layer = model.Layers(i)
        if layer.Kind() in PARAMETRISED_LAYERS:
            layers.append((layer.Kind(), layer.Units(), layer.Bias()))
        else:
            layers.append((layer.Kind(), 0, None))
    loss = model.Loss()
    return {"input": (model.InputH(), model.InputW(), model.InputC()), "layers": layers,
            "loss": LOSSES[loss] if loss < len(LOSSES) else "unknown %d" % loss}


def _table(cls, union):
    table = cls()
    table.Init(union.Bytes, union.Pos)
    return table


def data_statistics(sample_count, mean, m2, version=0x0106):
    """1.6: the moments of the device's data per input feature (§4 DataStatistics)."""
    b = flatbuffers.Builder(256 + 16 * len(mean))
    mean_vector = b.CreateNumpyVector(np.ascontiguousarray(mean, dtype="<f8"))
    m2_vector = b.CreateNumpyVector(np.ascontiguousarray(m2, dtype="<f8"))
    DataStatistics.Start(b)
    DataStatistics.AddSampleCount(b, sample_count)
    DataStatistics.AddMean(b, mean_vector)
    DataStatistics.AddM2(b, m2_vector)
    return _finish(b, Message.Message.DataStatistics, DataStatistics.End(b), version)


def _standardization(table):
    """1.6: (mean, deviation) as float64 arrays, or None when the Task has none."""
    if table is None:
        return None
    return table.MeanAsNumpy().astype(np.float64), table.DeviationAsNumpy().astype(np.float64)


def decode(data):
    """Bytes of one ZeroMQ message -> (kind, dict). Raises WireError naming the problem."""
    if len(data) < 12:
        raise WireError("a message of %d bytes is shorter than a header" % len(data))
    size = int.from_bytes(data[:4], "little")
    if size != len(data) - 4:
        raise WireError("size prefix says %d bytes, %d follow" % (size, len(data) - 4))
    if data[8:12] != IDENTIFIER:
        raise WireError("identifier %r is not EFLW" % data[8:12])
    envelope = Envelope.Envelope.GetRootAs(data, 4)
    version = envelope.Version()
    if version >> 8 != VERSION >> 8:
        raise WireError("version %d.%d; this device speaks 1.x" % (version >> 8, version & 0xFF))
    kind = envelope.MessageType()
    union = envelope.Message()
    M = Message.Message
    if kind == M.Welcome:
        w = _table(Welcome.Welcome, union)
        e = w.Eligibility()  # 1.6; absent: every limit off
        return "Welcome", {"device_id": (w.DeviceId() or b"").decode(), "server_session": w.ServerSession(),
                           "heartbeat_interval_ms": w.HeartbeatIntervalMs(),
                           "peer_timeout_ms": w.PeerTimeoutMs(), "max_message_bytes": w.MaxMessageBytes(),
                           "data_statistics_wanted": w.DataStatisticsWanted(),  # 1.6
                           "eligibility": None if e is None else {
                               "max_temperature_c": e.MaxTemperatureC(),
                               "temperature_hysteresis_c": e.TemperatureHysteresisC(),
                               "max_load_per_core": e.MaxLoadPerCore(), "load_hysteresis": e.LoadHysteresis(),
                               "min_battery_percent": e.MinBatteryPercent(),
                               "battery_hysteresis_percent": e.BatteryHysteresisPercent(),
                               "min_available_memory_bytes": e.MinAvailableMemoryBytes(),
                               "memory_hysteresis_bytes": e.MemoryHysteresisBytes()}}
    if kind == M.Task:
        t = _table(Task.Task, union)
        c = t.Config()
        if c is None:
            raise WireError("a Task without config")
        upload = c.Upload()
        return "Task", {"task_id": t.TaskId(), "round": t.Round(), "model_version": t.ModelVersion(),
                        "model_spec": (t.ModelSpec() or b"").decode(), "params": _f32_params(t.Params()),
                        "run_id": t.RunId(), "base_hash": t.BaseHash(),
                        "optimizer": c.Optimizer(), "lr": c.Lr(), "momentum": c.Momentum(),
                        "weight_decay": c.WeightDecay(), "beta1": c.Beta1(), "beta2": c.Beta2(),
                        "eps": c.Eps(), "batch_size": c.BatchSize(), "local_steps": c.LocalSteps(),
                        "local_epochs": c.LocalEpochs(), "seed": c.Seed(),
                        "upload_codec": CODEC_F32 if upload is None else upload.Codec(),
                        "palsgd": c.Palsgd() is not None, "adaptive_batch": c.AdaptiveBatch() is not None,
                        # 1.4 (absent fields read as their defaults: a 1.3 server's Task)
                        "lr_schedule": (c.LrSchedule(), c.LrWarmupSteps(), c.LrTotalSteps(), c.LrMin()),
                        "start_step": c.StartStep(), "keep_optimizer_state": c.KeepOptimizerState(),
                        "clip_norm": c.ClipNorm(), "gradient_only": c.GradientOnly(),
                        # 1.5 (absent: a 1.4 server's Task, the model as text only, all layers train)
                        "model": _model(t.Model()),
                        "trainable_layers": [t.TrainableLayers(i) for i in range(t.TrainableLayersLength())],
                        # 1.6 (absent: the data as loaded)
                        "standardization": _standardization(t.Standardization())}
    if kind == M.Ack:
        a = _table(Ack.Ack, union)
        return "Ack", {"update_id": a.UpdateId(), "round": a.Round(),
                       "status": "duplicate" if a.Status() == 1 else "accepted"}
    if kind == M.Reject:
        r = _table(Reject.Reject, union)
        return "Reject", {"reason": NAMES.get(r.Reason(), str(r.Reason())), "code": r.Reason(),
                          "message": (r.Message() or b"").decode(errors="replace"),
                          "update_id": r.UpdateId()}
    if kind == M.Heartbeat:
        h = _table(Heartbeat.Heartbeat, union)
        return "Heartbeat", {"sequence": h.Sequence()}
    if kind == M.Bye:
        y = _table(Bye.Bye, union)
        return "Bye", {"reason": y.Reason(), "message": (y.Message() or b"").decode(errors="replace")}
    if kind == M.PeerAssignment:
        return "PeerAssignment", _peer_assignment(_table(PeerAssignment.PeerAssignment, union))
    if kind == M.PeerModel:
        m = _table(PeerModel.PeerModel, union)
        return "PeerModel", {"sender": _string(m.Sender()), "epoch": m.Epoch(), "step": m.Step(),
                             "missed_previous": m.MissedPrevious(),
                             "params": _dense_params(m.Params(), "peer_model.params"), "run_id": m.RunId()}
    if kind == M.PeerReport:  # what a server receives; read here to check golden buffers
        return "PeerReport", _peer_report(_table(PeerReport.PeerReport, union))
    raise WireError("a server may not send union member %d" % kind)


def update_fields(data):
    """The ids and f32 payload of an encoded Update (the C++ device's saved updates)."""
    envelope = Envelope.Envelope.GetRootAs(data, 4)
    if envelope.MessageType() != Message.Message.Update:
        raise WireError("not an Update")
    u = _table(Update.Update, envelope.Message())
    payload = u.Payload()
    if payload.Codec() != CODEC_F32:
        raise WireError("update payload codec %d, expected f32" % payload.Codec())
    return {"round": u.Round(), "update_id": u.UpdateId(), "sample_count": u.SampleCount(),
            "train_loss": u.Metrics().TrainLoss(), "steps": u.Metrics().Steps(),
            "payload": payload.F32ValuesAsNumpy().astype(np.float32)}
