import h5py
import numpy as np
import pytest
import torch

from recon.errors import DataError
from recon_kspace.fastmri_io import (
    fastmri_info,
    make_fake_fastmri,
    read_fastmri,
    read_fastmri_slice,
    write_fastmri,
)
from recon.physics import ifft2c


def test_single_coil_round_trip(tmp_path):
    p = make_fake_fastmri(tmp_path / "file1000001.h5", num_slices=3, shape=(24, 20), seed=1)
    vol = read_fastmri(p)
    assert vol.kspace.shape == (3, 24, 20) and vol.kspace.dtype == np.complex64
    assert not vol.multicoil and vol.num_slices == 3
    assert vol.reconstruction_esc is not None and vol.reconstruction_rss is None
    assert vol.attrs["acquisition"] == "FAKE" and vol.attrs["filename"] == "file1000001.h5"
    # k-space follows the centred convention: ifft2c gives the target magnitude
    img = ifft2c(vol.slice_kspace(1))
    assert img.shape == (1, 24, 20)
    np.testing.assert_allclose(img.abs()[0].numpy(), vol.target[1], rtol=1e-4, atol=1e-5)
    k, target = read_fastmri_slice(p, 1)
    assert torch.equal(k, vol.slice_kspace(1))
    np.testing.assert_array_equal(target, vol.target[1])


def test_multi_coil_round_trip(tmp_path):
    p = make_fake_fastmri(tmp_path / "mc.h5", num_slices=2, num_coils=4, shape=(16, 18), seed=2)
    vol = read_fastmri(p)
    assert vol.multicoil and vol.kspace.shape == (2, 4, 16, 18)
    assert vol.target is vol.reconstruction_rss
    rss = ifft2c(vol.slice_kspace(0)).abs().square().sum(0).sqrt()
    np.testing.assert_allclose(rss.numpy(), vol.target[0], rtol=1e-4, atol=1e-5)
    assert fastmri_info(p) == {"shape": (2, 4, 16, 18), "num_slices": 2, "multicoil": True,
                               "keys": ["kspace", "reconstruction_rss"]}


def test_mask_dataset_is_read(tmp_path):
    k = np.ones((1, 8, 10), np.complex64)
    p = write_fastmri(tmp_path / "test.h5", k, mask=np.arange(10) % 2 == 0)
    vol = read_fastmri(p)
    assert vol.mask.shape == (10,) and vol.mask.sum() == 5


def test_missing_kspace(tmp_path):
    p = write_fastmri(tmp_path / "nok.h5", None, reconstruction_rss=np.ones((1, 4, 4), np.float32))
    for fn in (read_fastmri, fastmri_info, lambda q: read_fastmri_slice(q, 0)):
        with pytest.raises(DataError, match=r"nok\.h5: no 'kspace' dataset \(found: reconstruction_rss\)"):
            fn(p)


@pytest.mark.parametrize("shape", [(8,), (8, 8), (1, 2, 3, 8, 8)])
def test_wrong_rank(tmp_path, shape):
    p = write_fastmri(tmp_path / "rank.h5", np.ones(shape, np.complex64))
    with pytest.raises(DataError, match=rf"rank\.h5: 'kspace' has rank {len(shape)}"):
        read_fastmri(p)


def test_real_kspace_rejected(tmp_path):
    p = write_fastmri(tmp_path / "real.h5", np.ones((1, 4, 4), np.float32))
    with pytest.raises(DataError, match="real.h5: 'kspace' has dtype float32"):
        read_fastmri(p)


def test_not_hdf5_truncated_missing(tmp_path):
    txt = tmp_path / "notes.h5"
    txt.write_text("not an hdf5 file\n")
    with pytest.raises(DataError, match=r"notes\.h5: not an HDF5 file"):
        read_fastmri(txt)
    good = make_fake_fastmri(tmp_path / "whole.h5", num_slices=4, shape=(64, 64))
    data = open(good, "rb").read()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cut\.h5"):
        read_fastmri(cut)
    with pytest.raises(DataError, match=r"absent\.h5: no such fastMRI file"):
        read_fastmri(tmp_path / "absent.h5")
    with pytest.raises(DataError, match="out of range"):
        read_fastmri_slice(good, 4)


def test_group_instead_of_dataset(tmp_path):
    p = tmp_path / "group.h5"
    with h5py.File(p, "w") as f:
        f.create_group("kspace")
    with pytest.raises(DataError, match="no 'kspace' dataset"):
        read_fastmri(p)


def test_extra_group_next_to_kspace_is_tolerated(tmp_path):
    p = tmp_path / "extra.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("kspace", data=np.ones((1, 4, 6), np.complex64))
        f.create_group("extra")
    assert read_fastmri(p).kspace.shape == (1, 4, 6)
