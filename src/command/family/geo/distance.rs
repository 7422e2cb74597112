//! Distances on Redis's spherical Earth (haversine, radius 6372797.560856 m), the shapes a
//! search keeps points in (a circle, or a box measured along the parallel and the meridian
//! through its centre), and the bounding box and cell size a search scans with.
//!
//! Results must be bit-identical to Redis 7.0's: the same formulas in the same operation
//! order, over the same libm (`sin`, `cos`, `asin` of the system C library). Never reorder or
//! "simplify" an expression here: the last bits decide which points are in and their order.

use std::f64::consts::PI;

pub const EARTH_RADIUS_M: f64 = 6372797.560856;
/// Half the Mercator world width in metres: the largest radius a one-bit cell covers.
const MERCATOR_MAX_M: f64 = 20037726.37;
const DEG_PER_RAD: f64 = PI / 180.0;

fn deg_rad(deg: f64) -> f64 {
    deg * DEG_PER_RAD
}

fn rad_deg(rad: f64) -> f64 {
    rad / DEG_PER_RAD
}

/// Distance in metres along a meridian between two latitudes.
fn meridian_distance_m(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_M * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// Great-circle distance in metres between two points given in degrees. Points on the same
/// meridian (the longitude term is exactly 0) take the meridian formula, as Redis does; the
/// two agree except in the last bits, which decide ties in sorted replies.
pub fn distance_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return meridian_distance_m(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// What a search keeps: a circle of `radius`, or a `width` x `height` box, around a centre.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Extent {
    Radius(f64),
    Box { width: f64, height: f64 },
}

/// A search area. Sizes are in the user's unit; `conversion` is metres per unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    pub lon: f64,
    pub lat: f64,
    pub conversion: f64,
    pub extent: Extent,
}

impl Shape {
    /// The distance in metres from the centre to a point, if the point is inside the shape.
    /// A box holds a point whose offsets along the centre's parallel and meridian are within
    /// half its width and half its height.
    pub fn distance_if_inside(&self, lon: f64, lat: f64) -> Option<f64> {
        match self.extent {
            Extent::Radius(r) => {
                let d = distance_m(self.lon, self.lat, lon, lat);
                // Written so a NaN distance counts as inside, as Redis's `>` test lets it.
                if d > r * self.conversion {
                    None
                } else {
                    Some(d)
                }
            }
            Extent::Box { width, height } => {
                let (width_m, height_m) = (width * self.conversion, height * self.conversion);
                if meridian_distance_m(lat, self.lat) > height_m / 2.0 {
                    return None;
                }
                if distance_m(lon, lat, self.lon, lat) > width_m / 2.0 {
                    return None;
                }
                Some(distance_m(self.lon, self.lat, lon, lat))
            }
        }
    }

    /// The radius in metres that decides the cell size: the circle's, or half the box's
    /// diagonal.
    pub fn reach_m(&self) -> f64 {
        let r = match self.extent {
            Extent::Radius(r) => r,
            Extent::Box { width, height } => ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt(),
        };
        r * self.conversion
    }

    /// `[min_lon, min_lat, max_lon, max_lat]` of the area to cover. The longitude span is
    /// taken at the parallel nearer the pole (top in the north, bottom in the south).
    pub fn bounding_box(&self) -> [f64; 4] {
        let (half_h, half_w) = match self.extent {
            Extent::Radius(r) => (r, r),
            Extent::Box { width, height } => (height / 2.0, width / 2.0),
        };
        let height_m = self.conversion * half_h;
        let width_m = self.conversion * half_w;
        let lat_delta = rad_deg(height_m / EARTH_RADIUS_M);
        let lon_delta_top = rad_deg(width_m / EARTH_RADIUS_M / deg_rad(self.lat + lat_delta).cos());
        let lon_delta_bottom = rad_deg(width_m / EARTH_RADIUS_M / deg_rad(self.lat - lat_delta).cos());
        let lon_delta = if self.lat < 0.0 { lon_delta_bottom } else { lon_delta_top };
        [self.lon - lon_delta, self.lat - lat_delta, self.lon + lon_delta, self.lat + lat_delta]
    }
}

/// The geohash step whose cells are about as large as a circle of `range_m` metres at
/// latitude `lat` (cells narrow towards the poles, so one or two steps coarser there).
pub fn estimate_steps(range_m: f64, lat: f64) -> u8 {
    if range_m == 0.0 {
        return 26;
    }
    let mut range_m = range_m;
    let mut step: i32 = 1;
    while range_m < MERCATOR_MAX_M {
        range_m *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_by_radius() {
        assert_eq!(estimate_steps(0.0, 0.0), 26);
        assert_eq!(estimate_steps(1.0, 0.0), 24);
        assert_eq!(estimate_steps(1.0, 70.0), 23);
        assert_eq!(estimate_steps(1.0, -81.0), 22);
        assert_eq!(estimate_steps(1e-300, 0.0), 26);
        assert_eq!(estimate_steps(5_000_000.0, 0.0), 2);
        assert_eq!(estimate_steps(10_000_000.0, 0.0), 1);
        assert_eq!(estimate_steps(f64::INFINITY, 0.0), 1);
    }

    #[test]
    fn haversine_and_meridian_distances() {
        // GEODIST Sicily Palermo Catania: 166274.1516 after rounding.
        let d = distance_m(13.361389338970184, 38.1155563954963, 15.087267458438873, 37.50266842333162);
        assert_eq!(d, 166274.15156960033);
        assert_eq!(distance_m(1.0, 2.0, 1.0, 2.0), 0.0);
        // Redis stores these two (STOREDIST, in miles) one bit apart: the first point shares
        // the centre's meridian, so it takes the meridian formula.
        assert_eq!(distance_m(180.0, 45.0, 180.0, -85.05112751263943) / 1609.34, 8988.22232968745);
        assert_eq!(distance_m(180.0, 45.0, 179.99999731779099, -85.05112751263943) / 1609.34, 8988.222329687449);
    }
}
