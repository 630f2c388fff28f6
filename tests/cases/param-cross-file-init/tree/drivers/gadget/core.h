/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GADGET_CORE_H
#define _GADGET_CORE_H
extern bool enable_turbo;
#endif
