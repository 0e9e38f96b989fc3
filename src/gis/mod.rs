//! GIS interoperability: coordinate systems (GDAL/PROJ) and, later, GDAL import and export.

pub mod crs;
