import CBLAS

/// Thin wrappers over OpenBLAS's CBLAS (the only C boundary of the engine).
public enum BLAS {
    /// Sets OpenBLAS's own thread count (`openblas_set_num_threads`).
    public static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(count))
    }

    /// `y = x · wᵀ` with `cblas_sgemm` (row-major, `x (m, k)`, `w (n, k)`, `y (m, n)`).
    /// Faster than `MatrixMultiply` for large batches, but its rounding depends on `m`.
    public static func multiply(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int
    ) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                    1, x, Int32(k), w, Int32(k), 0, y, Int32(n))
    }

    /// `y = w · x` for one vector with `cblas_sgemv` (`w (n, k)`, `x (k)`, `y (n)`).
    public static func multiplyVector(
        _ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
        n: Int, k: Int
    ) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), 1, w, Int32(k), x, 1, 0, y, 1)
    }
}
