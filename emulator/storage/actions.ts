/** Storage's admin actions (`storage.*`): upload metadata, temp URLs, deletes. */
import type { AdminAction } from '../admin/action';

const getUploadMetadata: AdminAction = (p, { storage }) => ({
  data: storage.uploadMetadata(p.path),
});

const batchGetDownloadUrl: AdminAction = (p, { storage }) => ({
  data: { download_list: storage.downloadUrls(p.file_list) },
});

const batchDeleteFile: AdminAction = (p, { storage }) => ({
  data: { delete_list: storage.delete(p.fileid_list) },
});

export const storageActions: Record<string, AdminAction> = {
  'storage.getUploadMetadata': getUploadMetadata,
  'storage.batchGetDownloadUrl': batchGetDownloadUrl,
  'storage.batchDeleteFile': batchDeleteFile,
};
