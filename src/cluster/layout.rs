//! A 2-D map of the items for the HTML report: a linear projection of the embeddings.
//!
//! With three or more themes the axes are the two principal components of the theme centroids
//! (weighted by size), which spreads the themes apart as far as any linear map can; otherwise
//! they are the principal components of the items (on a strided sample of at most 20,000, so
//! the cost stays linear). Power iteration with deflation, from a fixed start: deterministic.

use crate::embed::dot;

/// Projects every vector to 2-D; coordinates are scaled to fit in [-1, 1].
pub fn project_2d(
    vectors: &[&[f32]],
    assignment: &[Option<usize>],
    centroids: &[Vec<f32>],
) -> Vec<[f32; 2]> {
    let n = vectors.len();
    if n == 0 {
        return Vec::new();
    }
    let dim = vectors[0].len();
    let (rows, weights): (Vec<&[f32]>, Vec<f32>) = if centroids.len() >= 3 {
        let mut sizes = vec![0.0f32; centroids.len()];
        for t in assignment.iter().flatten() {
            sizes[*t] += 1.0;
        }
        (
            centroids.iter().map(Vec::as_slice).collect(),
            sizes.iter().map(|s| s.sqrt()).collect(),
        )
    } else {
        let stride = n.div_ceil(20_000).max(1);
        let rows: Vec<&[f32]> = vectors.iter().step_by(stride).copied().collect();
        let w = vec![1.0; rows.len()];
        (rows, w)
    };
    let total: f32 = weights.iter().sum::<f32>().max(f32::MIN_POSITIVE);
    let mut mean = vec![0.0f32; dim];
    for (r, w) in rows.iter().zip(&weights) {
        mean.iter_mut()
            .zip(*r)
            .for_each(|(m, x)| *m += w * x / total);
    }
    let centred: Vec<Vec<f32>> = rows
        .iter()
        .zip(&weights)
        .map(|(r, w)| {
            r.iter()
                .zip(&mean)
                .map(|(x, m)| w.sqrt() * (x - m))
                .collect()
        })
        .collect();
    let a1 = principal_axis(&centred, dim, &[]);
    let a2 = principal_axis(&centred, dim, std::slice::from_ref(&a1));
    let mut pts: Vec<[f32; 2]> = vectors
        .iter()
        .map(|v| {
            let c: Vec<f32> = v.iter().zip(&mean).map(|(x, m)| x - m).collect();
            [dot(&c, &a1), dot(&c, &a2)]
        })
        .collect();
    let scale = pts
        .iter()
        .flat_map(|p| [p[0].abs(), p[1].abs()])
        .fold(0.0f32, f32::max);
    if scale > 0.0 {
        pts.iter_mut().for_each(|p| {
            p[0] /= scale;
            p[1] /= scale;
        });
    }
    pts
}

/// Top eigenvector of `rows^T rows` orthogonal to `exclude` (unit length; zero when none).
fn principal_axis(rows: &[Vec<f32>], dim: usize, exclude: &[Vec<f32>]) -> Vec<f32> {
    // A fixed, non-degenerate start vector.
    let mut v: Vec<f32> = (0..dim)
        .map(|i| 1.0 + ((i * 7919) % 13) as f32 / 13.0)
        .collect();
    let orthogonalise = |v: &mut Vec<f32>| {
        for e in exclude {
            let p = dot(v, e);
            v.iter_mut().zip(e).for_each(|(x, y)| *x -= p * y);
        }
    };
    orthogonalise(&mut v);
    crate::embed::normalize(&mut v);
    for _ in 0..100 {
        let mut next = vec![0.0f32; dim];
        for r in rows {
            let p = dot(r, &v);
            next.iter_mut().zip(r).for_each(|(a, x)| *a += p * x);
        }
        orthogonalise(&mut next);
        crate::embed::normalize(&mut next);
        let change: f32 = next.iter().zip(&v).map(|(a, b)| (a - b).abs()).sum();
        v = next;
        if change < 1e-5 {
            break;
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_points_along_the_main_direction() {
        let a = [1.0f32, 0.0, 0.0];
        let b = [-1.0f32, 0.1, 0.0];
        let c = [0.9f32, 0.0, 0.1];
        let vs: Vec<&[f32]> = vec![&a, &b, &c];
        let p = project_2d(&vs, &[None, None, None], &[]);
        assert_eq!(p.len(), 3);
        assert!(p.iter().all(|q| q[0].abs() <= 1.0 && q[1].abs() <= 1.0));
        assert!((p[0][0] - p[1][0]).abs() > 1.0);
    }
}
