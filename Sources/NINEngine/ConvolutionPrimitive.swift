#if canImport(CDNNL)
import CDNNL
#endif

/// How a k×k convolution layer computes.
public enum ConvolutionAlgorithm: String, Codable, CaseIterable, Sendable {
    /// im2col of cache-sized row blocks, then GEMM, bias and ReLU per block (`RowBlocks`).
    case im2colGEMM = "im2col-gemm"
    /// oneDNN's convolution primitives (forward with bias and ReLU fused as a post-op, backward
    /// data, backward weights) on the whole mini-batch, with the backend's thread count.
    case primitive
}

/// Which convolution layers use `ConvolutionAlgorithm.primitive`.
public enum ConvolutionSelection: String, Codable, CaseIterable, Sendable {
    /// The rule `ComputeBackend.convolutionAlgorithm` chose by measurement.
    case measured
    /// Every k×k convolution through im2col + GEMM.
    case im2colGEMM = "im2col-gemm"
    /// Every k×k convolution through oneDNN's primitives (where oneDNN has them).
    case primitive
}

/// oneDNN convolution primitives for one k×k convolution layer (NHWC activations).
///
/// Shapes: input `[N, H, W, Cin]`, weights `[k, k, Cin, Cout]` (oneDNN `hwio`), bias `[Cout]`,
/// output `[N, Ho, Wo, Cout]`. The weights are reordered into the blocked layout the primitive
/// chose (`format_tag_any`) before each pass and the weight gradient back into `hwio` after
/// (the weights are small next to the activations). Primitives are built once per mini-batch
/// size and kept. The backward weights primitive computes no bias gradient: the layer masks the
/// output gradient by its ReLU and sums the bias gradient itself (`Kernels.biasGradient`).
/// Threads: a primitive fixes its thread partition when it is built, from the calling thread's
/// OpenMP setting, so every build and execution sets `threads` first: results are bit-identical
/// for a thread count whatever thread calls.
/// oneDNN: `dnnl_convolution_{forward,backward_data,backward_weights}_desc_init`, oneDNN 2.x C API.
final class ConvolutionPrimitives {
    let input: FeatureShape, output: FeatureShape
    let kernel: Int, stride: Int, pad: Int, relu: Bool
    /// OpenMP threads the primitives are built and run with.
    let threads: Int

    #if canImport(CDNNL)
    private let engine: dnnl_engine_t
    private let stream: dnnl_stream_t
    /// The user's weight layout `hwio`.
    private var userWeights = dnnl_memory_desc_t()
    private var plans: [Int: Plan] = [:]

    /// A primitive with its memory objects (data handles set before each execution) and, when
    /// its weight layout is not `hwio`, a reorder and a buffer for the reordered weights.
    private final class Step {
        var primitive: dnnl_primitive_t? = nil
        var memories: [Int32: dnnl_memory_t] = [:]
        var reorder: dnnl_primitive_t? = nil
        /// The `hwio` side of the reorder (the blocked side is the primitive's weights memory).
        var user: dnnl_memory_t? = nil
        var weights: FloatBuffer? = nil
        deinit {
            if let primitive { dnnl_primitive_destroy(primitive) }
            if let reorder { dnnl_primitive_destroy(reorder) }
            for m in memories.values { dnnl_memory_destroy(m) }
            if let user { dnnl_memory_destroy(user) }
        }
    }

    private final class Plan {
        var forward = Step(), backwardWeights = Step()
        var backwardData: Step? = nil
        var forwardDescriptor: dnnl_primitive_desc_t? = nil
        deinit { if let forwardDescriptor { dnnl_primitive_desc_destroy(forwardDescriptor) } }
    }
    #endif

    /// Creates the primitives' shared state; nil when oneDNN is not available or cannot build
    /// a convolution primitive for `maxBatch` examples of this shape.
    init?(input: FeatureShape, output: FeatureShape, kernel: Int, stride: Int, pad: Int, relu: Bool, maxBatch: Int,
          threads: Int) {
        self.threads = max(1, threads)
        self.input = input
        self.output = output
        self.kernel = kernel
        self.stride = stride
        self.pad = pad
        self.relu = relu
        #if canImport(CDNNL)
        var e: dnnl_engine_t?
        guard dnnl_engine_create(&e, dnnl_cpu, 0) == dnnl_success, let e else { return nil }
        var s: dnnl_stream_t?
        guard dnnl_stream_create(&s, e, dnnl_stream_default_flags.rawValue) == dnnl_success, let s else {
            dnnl_engine_destroy(e)
            return nil
        }
        engine = e
        stream = s
        let w: [Int64] = [Int64(output.channels), Int64(input.channels), Int64(kernel), Int64(kernel)]
        guard dnnl_memory_desc_init_by_tag(&userWeights, 4, w, dnnl_f32, dnnl_hwio) == dnnl_success,
              plan(batch: maxBatch) != nil else { return nil }
        #else
        return nil
        #endif
    }

    #if canImport(CDNNL)
    deinit {
        plans = [:]
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }

    private func descriptors(batch: Int) -> (src: dnnl_memory_desc_t, dst: dnnl_memory_desc_t, bias: dnnl_memory_desc_t,
                                             anyWeights: dnnl_memory_desc_t, strides: [Int64], left: [Int64], right: [Int64])? {
        var src = dnnl_memory_desc_t(), dst = dnnl_memory_desc_t(), bias = dnnl_memory_desc_t(), any = dnnl_memory_desc_t()
        let n = Int64(batch)
        let s: [Int64] = [n, Int64(input.channels), Int64(input.height), Int64(input.width)]
        let d: [Int64] = [n, Int64(output.channels), Int64(output.height), Int64(output.width)]
        let w: [Int64] = [Int64(output.channels), Int64(input.channels), Int64(kernel), Int64(kernel)]
        let b: [Int64] = [Int64(output.channels)]
        guard dnnl_memory_desc_init_by_tag(&src, 4, s, dnnl_f32, dnnl_nhwc) == dnnl_success,
              dnnl_memory_desc_init_by_tag(&dst, 4, d, dnnl_f32, dnnl_nhwc) == dnnl_success,
              dnnl_memory_desc_init_by_tag(&bias, 1, b, dnnl_f32, dnnl_x) == dnnl_success,
              dnnl_memory_desc_init_by_tag(&any, 4, w, dnnl_f32, dnnl_format_tag_any) == dnnl_success else { return nil }
        // Right padding so that oneDNN's output size equals ours (floor division; Caffe).
        let right = [Int64((output.height - 1) * stride + kernel - input.height - pad),
                     Int64((output.width - 1) * stride + kernel - input.width - pad)]
        return (src, dst, bias, any, [Int64(stride), Int64(stride)], [Int64(pad), Int64(pad)], right)
    }

    /// A memory object over `md` with no data handle yet.
    private func memory(_ md: dnnl_memory_desc_t) -> dnnl_memory_t? {
        var md = md
        var m: dnnl_memory_t?
        return dnnl_memory_create(&m, &md, engine, nil) == dnnl_success ? m : nil
    }

    /// Builds `step.primitive` from `pd` and, for the weights argument `query` of layout other
    /// than `hwio`, a reorder between `hwio` and that layout (`toUser`: from the primitive's
    /// layout to `hwio`, for the weight gradient).
    private func finish(_ step: Step, pd: dnnl_primitive_desc_t, weightsQuery: dnnl_query_t, weightsArgument: Int32,
                        toUser: Bool, arguments: [(Int32, dnnl_memory_desc_t)]) -> Bool {
        guard dnnl_primitive_create(&step.primitive, pd) == dnnl_success else { return false }
        for (argument, md) in arguments {
            guard let m = memory(md) else { return false }
            step.memories[argument] = m
        }
        guard let chosen = dnnl_primitive_desc_query_md(pd, weightsQuery, 0) else { return false }
        if dnnl_memory_desc_equal(chosen, &userWeights) != 0 {
            guard let m = memory(userWeights) else { return false }
            step.memories[weightsArgument] = m
            return true
        }
        let buffer = FloatBuffer(count: (dnnl_memory_desc_get_size(chosen) + 3) / 4)
        guard let blocked = memory(chosen.pointee), let user = memory(userWeights),
              dnnl_memory_set_data_handle(blocked, buffer.pointer) == dnnl_success else { return false }
        step.weights = buffer
        step.memories[weightsArgument] = blocked
        step.user = user
        var rpd: dnnl_primitive_desc_t?
        let created = toUser ? dnnl_reorder_primitive_desc_create(&rpd, chosen, engine, &userWeights, engine, nil)
                             : dnnl_reorder_primitive_desc_create(&rpd, &userWeights, engine, chosen, engine, nil)
        guard created == dnnl_success, let rpd else { return false }
        defer { dnnl_primitive_desc_destroy(rpd) }
        return dnnl_primitive_create(&step.reorder, rpd) == dnnl_success
    }

    /// The forward and backward-weights primitives for `batch` examples (built on first use).
    private func plan(batch: Int) -> Plan? {
        ComputeBackend.setWorkerThreads(threads)
        if let p = plans[batch] { return p }
        guard var d = descriptors(batch: batch) else { return nil }
        let p = Plan()
        var conv = dnnl_convolution_desc_t()
        guard dnnl_convolution_forward_desc_init(&conv, dnnl_forward_training, dnnl_convolution_direct, &d.src, &d.anyWeights,
                                                 &d.bias, &d.dst, d.strides, d.left, d.right) == dnnl_success else { return nil }
        var attr: dnnl_primitive_attr_t?
        var postOps: dnnl_post_ops_t?
        guard dnnl_primitive_attr_create(&attr) == dnnl_success, dnnl_post_ops_create(&postOps) == dnnl_success else { return nil }
        defer { dnnl_primitive_attr_destroy(attr); dnnl_post_ops_destroy(postOps) }
        if relu {
            guard dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_relu, 0, 0) == dnnl_success,
                  dnnl_primitive_attr_set_post_ops(attr, postOps) == dnnl_success else { return nil }
        }
        guard dnnl_primitive_desc_create(&p.forwardDescriptor, &conv, attr, engine, nil) == dnnl_success,
              let fpd = p.forwardDescriptor,
              finish(p.forward, pd: fpd, weightsQuery: dnnl_query_weights_md, weightsArgument: Int32(DNNL_ARG_WEIGHTS), toUser: false,
                     arguments: [(Int32(DNNL_ARG_SRC), d.src),
                                 (Int32(DNNL_ARG_BIAS), d.bias),
                                 (Int32(DNNL_ARG_DST), d.dst)]) else { return nil }
        var bw = dnnl_convolution_desc_t()
        var bwpd: dnnl_primitive_desc_t?
        guard dnnl_convolution_backward_weights_desc_init(&bw, dnnl_convolution_direct, &d.src, &d.anyWeights, nil, &d.dst,
                                                          d.strides, d.left, d.right) == dnnl_success,
              dnnl_primitive_desc_create(&bwpd, &bw, nil, engine, fpd) == dnnl_success, let bwpd else { return nil }
        defer { dnnl_primitive_desc_destroy(bwpd) }
        guard finish(p.backwardWeights, pd: bwpd, weightsQuery: dnnl_query_diff_weights_md,
                     weightsArgument: Int32(DNNL_ARG_DIFF_WEIGHTS), toUser: true,
                     arguments: [(Int32(DNNL_ARG_SRC), d.src),
                                 (Int32(DNNL_ARG_DIFF_DST), d.dst)]) else { return nil }
        plans[batch] = p
        return p
    }

    /// The backward-data primitive of `plan` (built on first use: the first layer never needs it).
    private func backwardData(_ p: Plan, batch: Int) -> Step? {
        if let s = p.backwardData { return s }
        guard var d = descriptors(batch: batch) else { return nil }
        var bd = dnnl_convolution_desc_t()
        var bdpd: dnnl_primitive_desc_t?
        guard dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &d.src, &d.anyWeights, &d.dst,
                                                       d.strides, d.left, d.right) == dnnl_success,
              dnnl_primitive_desc_create(&bdpd, &bd, nil, engine, p.forwardDescriptor) == dnnl_success, let bdpd else { return nil }
        defer { dnnl_primitive_desc_destroy(bdpd) }
        let s = Step()
        guard finish(s, pd: bdpd, weightsQuery: dnnl_query_weights_md, weightsArgument: Int32(DNNL_ARG_WEIGHTS), toUser: false,
                     arguments: [(Int32(DNNL_ARG_DIFF_SRC), d.src),
                                 (Int32(DNNL_ARG_DIFF_DST), d.dst)]) else { return nil }
        p.backwardData = s
        return s
    }

    /// Executes `step` with the given data handles (the weights argument gets `weights`, reordered
    /// first when the primitive's layout is not `hwio`, or `weightGradient` after, when `toUser`).
    private func execute(_ step: Step, handles: [Int32: UnsafeMutableRawPointer], weightsArgument: Int32,
                         userWeights weights: UnsafeMutableRawPointer, toUser: Bool) -> Bool {
        for (argument, handle) in handles {
            guard let m = step.memories[argument], dnnl_memory_set_data_handle(m, handle) == dnnl_success else { return false }
        }
        guard let blocked = step.memories[weightsArgument] else { return false }
        guard let user = step.user else {
            return dnnl_memory_set_data_handle(blocked, weights) == dnnl_success
                && run(step.primitive, step.memories.map { ($0.key, $0.value) })
        }
        guard dnnl_memory_set_data_handle(user, weights) == dnnl_success else { return false }
        if !toUser {
            guard run(step.reorder, [(Int32(DNNL_ARG_FROM), user), (Int32(DNNL_ARG_TO), blocked)]) else { return false }
        }
        guard run(step.primitive, step.memories.map { ($0.key, $0.value) }) else { return false }
        return !toUser || run(step.reorder, [(Int32(DNNL_ARG_FROM), blocked), (Int32(DNNL_ARG_TO), user)])
    }

    private func run(_ primitive: dnnl_primitive_t?, _ arguments: [(Int32, dnnl_memory_t?)]) -> Bool {
        let args = arguments.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1) }
        return dnnl_primitive_execute(primitive, stream, Int32(args.count), args) == dnnl_success
            && dnnl_stream_wait(stream) == dnnl_success
    }
    #endif

    /// Forward: `output = relu?(conv(input, weights) + bias)` for `batch` examples. Returns
    /// false (nothing written) when no primitive exists for this batch size.
    func forward(input: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                 output: UnsafeMutablePointer<Float>, batch: Int) -> Bool {
        #if canImport(CDNNL)
        guard let p = plan(batch: batch) else { return false }
        return execute(p.forward, handles: [Int32(DNNL_ARG_SRC): UnsafeMutableRawPointer(mutating: input),
                                            Int32(DNNL_ARG_BIAS): UnsafeMutableRawPointer(mutating: bias),
                                            Int32(DNNL_ARG_DST): UnsafeMutableRawPointer(output)],
                       weightsArgument: Int32(DNNL_ARG_WEIGHTS), userWeights: UnsafeMutableRawPointer(mutating: weights),
                       toUser: false)
        #else
        return false
        #endif
    }

    /// Backward of the convolution for an output gradient already masked by the ReLU:
    /// `weightGradient [k, k, Cin, Cout]` (overwritten) and, when given, `inputGradient
    /// [N, H, W, Cin]` (overwritten). Returns false when no primitive exists for this batch size.
    func backward(input: UnsafePointer<Float>, weights: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
                  weightGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?, batch: Int) -> Bool {
        #if canImport(CDNNL)
        guard let p = plan(batch: batch) else { return false }
        let dy = UnsafeMutableRawPointer(mutating: outputGradient)
        guard execute(p.backwardWeights, handles: [Int32(DNNL_ARG_SRC): UnsafeMutableRawPointer(mutating: input),
                                                   Int32(DNNL_ARG_DIFF_DST): dy],
                      weightsArgument: Int32(DNNL_ARG_DIFF_WEIGHTS), userWeights: UnsafeMutableRawPointer(weightGradient),
                      toUser: true) else { return false }
        guard let inputGradient else { return true }
        guard let s = backwardData(p, batch: batch) else { return false }
        return execute(s, handles: [Int32(DNNL_ARG_DIFF_SRC): UnsafeMutableRawPointer(inputGradient), Int32(DNNL_ARG_DIFF_DST): dy],
                       weightsArgument: Int32(DNNL_ARG_WEIGHTS), userWeights: UnsafeMutableRawPointer(mutating: weights),
                       toUser: false)
        #else
        return false
        #endif
    }
}
